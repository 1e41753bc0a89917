"Core (nbs/01_core.ipynb): one-line errors, images between uint8 and floats, counts, where the bundled files are."
import numpy as np
import pytest

from vae_mnist.core import DataError, as_float, check_count, error_line, flatten, normalize, pretrained_dir, to_uint8


def test_data_error_and_error_line_are_one_line():
    assert str(DataError('x.gz', 'not a gzip file')) == 'x.gz: not a gzip file'
    assert error_line(ValueError('first\n   second')) == 'first second' and error_line(KeyError()) == 'KeyError'
    assert 'pickled Python objects' in error_line(ValueError('Object arrays cannot be loaded when allow_pickle=False'))
    assert len(error_line(ValueError('x' * 1000))) == 200


def test_uint8_and_floats_round_trip():
    x = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    f = normalize(x)
    assert f.dtype == np.float32 and f.min() >= 0 and f.max() <= 1
    np.testing.assert_array_equal(as_float(x), f); assert as_float(f) is not None and np.array_equal(as_float(f), f)
    np.testing.assert_array_equal(to_uint8(f), x)
    np.testing.assert_array_equal(to_uint8([-0.5, 0.5, 2.0]), [0, 128, 255])
    assert flatten(x).shape == (5, 784)


@pytest.mark.parametrize('bad', [0, -3, 1.5, True, '7', None])
def test_check_count_refuses_what_is_not_a_positive_whole_number(bad):
    with pytest.raises(ValueError, match=r'^n must be a positive whole number, got'): check_count(bad)


def test_check_count_takes_numpy_integers():
    assert check_count(np.int32(12), 'batch_size') == 12


def test_the_bundled_files_are_found():
    d = pretrained_dir()
    assert d.name == 'assets' and {'digits.keras', 'reader.keras', 'quality.json'} <= {p.name for p in d.iterdir()}
