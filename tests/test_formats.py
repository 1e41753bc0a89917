"""Formats (nbs/02a_formats.ipynb): every bad file raises DataError with one line 'PATH: problem'; fuzzed readers return a correct result or DataError, nothing else."""
import gzip
import re
import struct

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from vae_mnist.core import DataError
from vae_mnist.data import load_mnist, read_dataset
from vae_mnist.formats import read_csv, read_idx, read_npz, write_csv, write_idx

from conftest import IDX_FILES


# --- Every bad input raises `DataError` with a one-line message 'PATH: problem' that names the file.

def raises(fn, path, *problems):
    "Call `fn`; it must raise `DataError` whose message starts with `path` and contains every one of `problems`."
    with pytest.raises(DataError) as e:
        fn()
    msg = str(e.value)
    assert msg.startswith(f"{path}: "), msg
    assert '\n' not in msg, msg
    for p in problems: assert p in msg, msg
    return msg


@pytest.fixture
def idx_dir(tmp_path, small):
    "A folder with four valid (plain) IDX files of real digits."
    (xa, ya), (xb, yb) = small
    for name, a in zip(IDX_FILES, (xa, ya, xb, yb)): write_idx(tmp_path/name, a)
    return tmp_path


@pytest.fixture
def csv_lines(tmp_path, small):
    "The lines of a valid Kaggle CSV of 5 real digits (header first)."
    (xa, ya), _ = small
    return write_csv(tmp_path/'valid.csv', xa[:5], ya[:5]).read_text().splitlines()


def put(path, lines):
    path.write_text('\n'.join(lines) + '\n')
    return path


def set_cell(lines, row, col, value):
    "Lines with the cell at 1-based file `row` (1 = header) and 0-based `col` replaced."
    lines = list(lines); cells = lines[row - 1].split(','); cells[col] = value; lines[row - 1] = ','.join(cells)
    return lines


# --- IDX and gzip

def test_truncated_gzip(tmp_path, small):
    (x, _), _ = small
    p = tmp_path/'train-images-idx3-ubyte.gz'
    p.write_bytes(gzip.compress(write_idx(tmp_path/'x', x).read_bytes())[:5000])
    raises(lambda: read_idx(p), p, "truncated gzip")


def test_corrupt_gzip(tmp_path, small):
    (x, _), _ = small
    raw = bytearray(gzip.compress(write_idx(tmp_path/'x', x).read_bytes()))
    for i in range(200, 220): raw[i] ^= 0xFF
    p = tmp_path/'flipped.gz'; p.write_bytes(bytes(raw))
    raises(lambda: read_idx(p), p, "corrupt or truncated gzip")


def test_gzip_crc_mismatch(tmp_path):
    raw = bytearray(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 2, 3, 4])))
    raw[-8] ^= 1  # the stored CRC-32
    p = tmp_path/'crc.gz'; p.write_bytes(bytes(raw))
    raises(lambda: read_idx(p), p, "corrupt or truncated gzip", "CRC")


def test_wrong_idx_magic(tmp_path, small):
    (x, _), _ = small
    p = write_idx(tmp_path/'x.idx', x)
    p.write_bytes(b'\x12\x34' + p.read_bytes()[2:])
    raises(lambda: read_idx(p), p, "not an IDX file", "magic bytes 12340803")
    p.write_bytes(b'\0\0\x07\x03' + p.read_bytes()[4:])  # unknown type code
    raises(lambda: read_idx(p), p, "not an IDX file", "00000703")


def test_idx_length_disagrees_with_header(tmp_path, small):
    (x, _), _ = small
    p = write_idx(tmp_path/'x.idx', x[:5])
    p.write_bytes(p.read_bytes() + b'\0')
    raises(lambda: read_idx(p), p, "header declares shape (5, 28, 28) (3920 bytes) but the file holds 3921 bytes")
    p.write_bytes(p.read_bytes()[:10])
    raises(lambda: read_idx(p), p, "IDX header truncated")


def test_idx_header_with_huge_dimensions(tmp_path):
    # 65536**4 bytes overflows int64 to 0, which equals the (empty) payload: must still be refused, not crash
    p = tmp_path/'huge.idx'
    p.write_bytes(bytes([0, 0, 8, 4]) + np.array([2**16] * 4, '>u4').tobytes())
    raises(lambda: read_idx(p), p, "declares shape (65536, 65536, 65536, 65536)")
    # with a zero dimension the size is 0 and matches too, but numpy cannot make an array of that shape
    p.write_bytes(bytes([0, 0, 8, 4]) + np.array([0, 3, 2**31, 2**31], '>u4').tobytes())
    raises(lambda: read_idx(p), p, "declares shape (0, 3, 2147483648, 2147483648), which numpy refuses")


def test_wrong_image_size(idx_dir, small):
    (xa, _), _ = small
    p = write_idx(idx_dir/'train-images-idx3-ubyte', xa[:, :27, :])
    raises(lambda: load_mnist(source=idx_dir), p, "expected images of 28x28 pixels", "(300, 27, 28)")


def test_images_and_labels_swapped(idx_dir, small):
    (xa, ya), _ = small
    write_idx(idx_dir/'train-images-idx3-ubyte', ya)
    raises(lambda: load_mnist(source=idx_dir), idx_dir/'train-images-idx3-ubyte', "expected images of 28x28", "(300,)")


def test_image_label_count_mismatch(idx_dir, small):
    _, (xb, yb) = small
    p = write_idx(idx_dir/'t10k-labels-idx1-ubyte', yb[:-1])
    raises(lambda: load_mnist(source=idx_dir), p, "99 labels for 100 images")


def test_labels_outside_0_9(idx_dir, small):
    (_, ya), _ = small
    p = write_idx(idx_dir/'train-labels-idx1-ubyte', np.where(np.arange(len(ya)) == 7, 10, ya))
    raises(lambda: load_mnist(source=idx_dir), p, "labels must be 0-9", "0..10")


@pytest.mark.parametrize('reader', [read_idx, read_csv, read_npz])
def test_empty_file(tmp_path, reader):
    p = tmp_path/'empty'; p.write_bytes(b'')
    raises(lambda: reader(p), p, "empty")


def test_empty_file_in_a_folder(idx_dir):
    p = idx_dir/'t10k-images-idx3-ubyte'; p.write_bytes(b'')
    raises(lambda: load_mnist(source=idx_dir), p, "file is empty")


def test_gzip_of_nothing(tmp_path):
    p = tmp_path/'nothing.gz'; p.write_bytes(gzip.compress(b''))
    raises(lambda: read_idx(p), p, "empty after gunzip")


# --- CSV

def test_csv_without_label_column(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', [csv_lines[0].replace('label', 'digit', 1)] + csv_lines[1:])
    raises(lambda: read_csv(p), p, "no 'label' column")
    p = put(tmp_path/'c.csv', csv_lines[1:])  # no header at all
    raises(lambda: read_csv(p), p, "no 'label' column")


def test_csv_wrong_column_count(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', [','.join(r.split(',')[:-1]) for r in csv_lines])  # 783 pixel columns
    raises(lambda: read_csv(p), p, "expected a label and 784 pixel columns, found 784 columns")
    p = put(tmp_path/'c.csv', [r + ',0' for r in csv_lines])
    raises(lambda: read_csv(p), p, "found 786 columns")


def test_csv_row_with_extra_field(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', csv_lines[:3] + [csv_lines[3] + ',0'] + csv_lines[4:])
    raises(lambda: read_csv(p), p, "not a readable CSV", "Expected 785 fields in line 4, saw 786")
    # in the first data row pandas would take the extra field for an index column and shift every value
    p = put(tmp_path/'c.csv', [csv_lines[0], '7,' + csv_lines[1]] + csv_lines[2:])
    raises(lambda: read_csv(p), p, "row 2 has more fields than the header")


def test_csv_row_with_missing_field(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', csv_lines[:2] + [csv_lines[2].rsplit(',', 1)[0]] + csv_lines[3:])
    raises(lambda: read_csv(p), p, "row 3, column '28x28': missing value")


def test_csv_non_numeric_cell(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 3, 5, 'abc'))
    raises(lambda: read_csv(p), p, "row 3, column '1x5': 'abc' is not a number")
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 5, 0, 'seven'))
    raises(lambda: read_csv(p), p, "row 5, column 'label': 'seven' is not a number")
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 2, 9, 'True'))
    raises(lambda: read_csv(p), p, "row 2, column '1x9': 'True' is not a number")


def test_csv_pixels_outside_0_255(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 4, 300, '256'))
    raises(lambda: read_csv(p), p, "pixel values must be 0-255", "..256")
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 2, 1, '-1'))
    raises(lambda: read_csv(p), p, "pixel values must be 0-255", "-1..")


def test_csv_fractional_or_infinite_pixels(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 2, 100, '0.5'))
    raises(lambda: read_csv(p), p, "pixel values must be whole numbers 0-255")
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 2, 100, 'inf'))
    raises(lambda: read_csv(p), p, "pixel values must be whole numbers 0-255")


def test_csv_labels_outside_0_9(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 3, 0, '12'))
    raises(lambda: read_csv(p), p, "labels must be 0-9", "..12")
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 3, 0, '2.5'))
    raises(lambda: read_csv(p), p, "labels must be whole numbers 0-9")


def test_csv_missing_value(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 3, 5, ''))
    raises(lambda: read_csv(p), p, "row 3, column '1x5': missing value")
    p = put(tmp_path/'c.csv', set_cell(csv_lines, 4, 0, 'NaN'))
    raises(lambda: read_csv(p), p, "row 4, column 'label': missing value")


def test_csv_header_only_or_blank(tmp_path, csv_lines):
    p = put(tmp_path/'c.csv', csv_lines[:1])
    raises(lambda: read_csv(p), p, "holds no images")
    p = tmp_path/'blank.csv'; p.write_text('\n\n\n')
    raises(lambda: read_csv(p), p, "file is empty")


def test_csv_not_text(tmp_path, small):
    (xa, _), _ = small
    p = tmp_path/'images.csv'; p.write_bytes(write_idx(tmp_path/'x', xa).read_bytes())
    with pytest.raises(DataError, match=f"^{re.escape(str(p))}: "): read_csv(p)


def test_csv_truncated_gzip(tmp_path, csv_lines):
    # named .csv.gz: pandas alone would raise EOFError here
    gz = gzip.compress('\n'.join(csv_lines).encode())
    p = tmp_path/'mnist_train.csv.gz'; p.write_bytes(gz[:len(gz) // 2])
    raises(lambda: read_csv(p), p, "truncated gzip")


def test_csv_pair_with_a_bad_file(tmp_path, csv_lines):
    put(tmp_path/'mnist_train.csv', csv_lines)
    p = put(tmp_path/'mnist_test.csv', set_cell(csv_lines, 2, 0, '11'))
    raises(lambda: load_mnist(source=tmp_path), p, "labels must be 0-9")


# --- npz, folders, paths

def test_npz_lacking_arrays(tmp_path, small):
    (xa, ya), (xb, yb) = small
    p = tmp_path/'mnist.npz'; np.savez(p, x_train=xa, y_train=ya, x_test=xb)
    raises(lambda: load_mnist(source=p), p, "npz lacks the arrays ['y_test']")
    np.savez(p, images=xa)
    raises(lambda: load_mnist(source=tmp_path), p, "['x_test', 'x_train', 'y_test', 'y_train']")


def test_npz_bad_contents(tmp_path, small):
    (xa, ya), (xb, yb) = small
    p = tmp_path/'mnist.npz'
    np.savez(p, x_train=xa, y_train=ya + 10, x_test=xb, y_test=yb)
    raises(lambda: read_npz(p), f"{p}[y_train]", "labels must be 0-9")
    np.savez(p, x_train=xa / 255, y_train=ya, x_test=xb, y_test=yb)  # normalized floats are not pixels
    raises(lambda: read_npz(p), f"{p}[x_train]", "whole numbers 0-255")
    np.savez(p, x_train=np.array([object()] * 3), y_train=ya, x_test=xb, y_test=yb)
    raises(lambda: read_npz(p), p, "not a readable npz")


def test_npz_that_is_not_one(tmp_path, small):
    (xa, _), _ = small
    p = tmp_path/'mnist.npz'; p.write_bytes(b'PK\x03\x04 but not a zip')
    raises(lambda: read_npz(p), p, "not a readable npz")
    np.save(tmp_path/'x.npy', xa); p.write_bytes((tmp_path/'x.npy').read_bytes())  # one .npy array
    raises(lambda: read_npz(p), p, "not an npz archive")


def test_npz_zip_features_we_cannot_read(tmp_path, small):
    (xa, ya), _ = small
    p = tmp_path/'mnist.npz'; np.savez(p, x_train=xa, y_train=ya, x_test=xa, y_test=ya)
    raw = p.read_bytes()
    def central(offset, value):  # the zip's first central-directory record, with 2 bytes at `offset` replaced
        i = raw.index(b'PK\x01\x02') + offset
        return raw[:i] + value + raw[i + 2:]
    p.write_bytes(central(10, b'\x63\x00'))  # compression method 99: zipfile raises NotImplementedError
    raises(lambda: read_npz(p), p, "not a readable npz", "compression method")
    p.write_bytes(central(8, b'\x01\x00'))  # the "encrypted" flag: zipfile raises RuntimeError
    raises(lambda: read_npz(p), p, "not a readable npz", "encrypted")


def test_folder_with_no_data(tmp_path, idx_dir):
    empty = tmp_path/'empty'; empty.mkdir()
    raises(lambda: load_mnist(source=empty), empty, "no mnist files here", "t10k-images-idx3-ubyte", "mnist.npz")
    (idx_dir/'t10k-labels-idx1-ubyte').unlink()  # three of the four IDX files do not make a dataset
    raises(lambda: load_mnist(source=idx_dir), idx_dir, "no mnist files here")
    raises(lambda: load_mnist(source=empty, dataset='fashion_mnist'), empty, "no fashion_mnist files here",
           "fashion-mnist_train.csv")


def test_missing_path(tmp_path):
    p = tmp_path/'nowhere'
    raises(lambda: load_mnist(source=p), p, "no such file or folder")
    for reader in (read_idx, read_csv, read_npz): raises(lambda: reader(p), p, "no such file")


def test_a_folder_given_as_a_file(tmp_path):
    for reader in (read_idx, read_csv): raises(lambda: reader(tmp_path), tmp_path, "is a directory")


def test_a_file_that_is_not_a_dataset(tmp_path, idx_dir):
    p = idx_dir/'train-images-idx3-ubyte'
    raises(lambda: read_dataset(p), p, "give a folder holding the dataset's files, or an .npz file")


def test_unknown_dataset(tmp_path):
    raises(lambda: load_mnist(dataset='cifar10'), 'cifar10', "unknown dataset", "'fashion_mnist'", "'mnist'")


# --- writers refuse what they cannot write faithfully

def test_write_idx_refuses_values_bytes_cannot_hold(tmp_path, small):
    (xa, ya), _ = small
    p = tmp_path/'x.idx'
    raises(lambda: write_idx(p, xa / 255), p, "whole numbers 0-255")  # normalized images would all become 0
    raises(lambda: write_idx(p, ya.astype(int) + 250), p, "whole numbers 0-255")
    assert not p.exists()
    np.testing.assert_array_equal(read_idx(write_idx(p, xa.astype(np.float64))), xa)  # whole floats are fine


def test_write_csv_refuses_bad_digits(tmp_path, small):
    (xa, ya), _ = small
    p = tmp_path/'c.csv'
    raises(lambda: write_csv(p, xa, ya[:-1]), p, "299 labels for 300 images")
    raises(lambda: write_csv(p, xa[:, :, :27], ya), p, "28x28")
    assert not p.exists()
    assert list(pd.read_csv(write_csv(p, xa[:2], ya[:2])).columns[:2]) == ['label', '1x1']


# --- Fuzzing the readers: whatever the bytes, `read_idx`/`read_csv`/`read_npz` return a correct result or raise `DataError`.

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
IDX_TYPES = {0x08: 'u1', 0x09: 'i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}


@pytest.fixture(scope='module')
def scratch(tmp_path_factory): return tmp_path_factory.mktemp('fuzz')


class Files(dict):
    def __repr__(self): return f"<valid files {sorted(self)}>"  # (keeps Hypothesis's failure reports short)


@pytest.fixture(scope='module')
def valid(scratch, small):
    "Small valid files of real digits: raw IDX, gzipped IDX, labels IDX, a CSV of 2 rows, an npz."
    (xa, ya), (xb, yb) = small
    np.savez_compressed(scratch/'v.npz', x_train=xa[:2], y_train=ya[:2], x_test=xb[:1], y_test=yb[:1])
    return Files(idx=write_idx(scratch/'v.idx', xa[:3]).read_bytes(), idx_gz=write_idx(scratch/'v.idx.gz', xa[:3]).read_bytes(),
                labels=write_idx(scratch/'l.idx', ya[:40]).read_bytes(),
                csv=write_csv(scratch/'v.csv', xa[:2], ya[:2]).read_bytes(), npz=(scratch/'v.npz').read_bytes())


def check_idx(raw: bytes, got: np.ndarray):
    "`got` is what the IDX bytes `raw` (gunzipped if need be) declare: the header's type and shape, the payload's values."
    if raw[:2] == b'\x1f\x8b': raw = gzip.decompress(raw)
    code, ndim = raw[2], raw[3]
    shape = struct.unpack(f'>{ndim}I', raw[4:4 + 4*ndim])
    assert raw[:2] == b'\0\0' and got.shape == shape and got.dtype == np.dtype(IDX_TYPES[code]).newbyteorder('=')
    assert got.astype(IDX_TYPES[code]).tobytes() == raw[4 + 4*ndim:]


def check_csv(got):
    x, y = got
    assert x.dtype == np.uint8 and x.ndim == 3 and x.shape[1:] == (28, 28) and len(x) > 0
    assert y.dtype == np.uint8 and y.shape == (len(x),) and int(y.max()) <= 9


def attempt(reader, path, raw):
    "Write `raw` to `path` and read it: the result, or None after a `DataError` that names the file."
    path.write_bytes(raw)
    try: return reader(path)
    except DataError as e:
        assert str(e).startswith(f"{path}: ") and '\n' not in str(e)
        return None


def test_unmutated_files_read(scratch, valid, small):
    # the mutation tests start from these: they must be valid, or those tests would only ever see errors
    (xa, ya), (xb, yb) = small
    for key, want in (('idx', xa[:3]), ('idx_gz', xa[:3]), ('labels', ya[:40])):
        got = attempt(read_idx, scratch/'unmutated', valid[key]); check_idx(valid[key], got)
        np.testing.assert_array_equal(got, want)
    x, y = attempt(read_csv, scratch/'unmutated.csv', valid['csv'])
    np.testing.assert_array_equal(x, xa[:2]); np.testing.assert_array_equal(y, ya[:2])
    (x, y), (xt, yt) = attempt(read_npz, scratch/'unmutated.npz', valid['npz'])
    np.testing.assert_array_equal(x, xa[:2]); np.testing.assert_array_equal(yt, yb[:1])


# (1) random bytes, gzipped or not

maybe_gz = st.tuples(st.binary(max_size=600), st.booleans()).map(lambda t: gzip.compress(t[0]) if t[1] else t[0])
# headers the IDX decoder takes seriously: a real magic, random type code, dimensions and payload
idx_like = st.builds(lambda code, dims, payload: bytes([0, 0, code, len(dims)]) + struct.pack(f'>{len(dims)}I', *dims) + payload,
                     st.sampled_from([*IDX_TYPES, 0x07, 0x0A]), st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 6), max_size=4),
                     st.binary(max_size=64))


@FUZZ
@given(raw=maybe_gz | idx_like | idx_like.map(gzip.compress))
def test_random_bytes_read_idx(scratch, raw):
    got = attempt(read_idx, scratch/'random.idx', raw)
    if got is not None: check_idx(raw, got)


@FUZZ
@given(raw=maybe_gz | st.text(alphabet='label,0123456789x\n -.\r"', max_size=400).map(str.encode))
def test_random_bytes_read_csv(scratch, raw):
    got = attempt(read_csv, scratch/'random.csv', raw)
    if got is not None: check_csv(got)


# (2) valid files with bytes flipped, inserted or deleted

def mutations(max_pos=10**6, max_ops=4):
    "Lists of (what, where, byte) edits; `where` is taken modulo the file's length."
    op = st.tuples(st.sampled_from(['flip', 'insert', 'delete']), st.integers(0, max_pos), st.integers(0, 255))
    return st.lists(op, min_size=1, max_size=max_ops)


def mutate(raw: bytes, ops) -> bytes:
    b = bytearray(raw)
    for kind, where, byte in ops:
        if kind == 'insert': b.insert(where % (len(b) + 1), byte)
        elif b and kind == 'flip': b[where % len(b)] ^= byte or 1
        elif b: del b[where % len(b)]
    return bytes(b)


@FUZZ
@given(which=st.sampled_from(['idx', 'idx_gz', 'labels']), ops=mutations() | mutations(max_pos=15))  # anywhere, or in the header
def test_mutated_idx(scratch, valid, which, ops):
    raw = mutate(valid[which], ops)
    got = attempt(read_idx, scratch/'mutated.idx', raw)
    if got is not None: check_idx(raw, got)


@FUZZ
@given(gz=st.booleans(), ops=mutations())
def test_mutated_csv(scratch, valid, gz, ops):
    raw = mutate(gzip.compress(valid['csv']) if gz else valid['csv'], ops)
    got = attempt(read_csv, scratch/('mutated.csv.gz' if gz else 'mutated.csv'), raw)
    if got is not None: check_csv(got)


@settings(FUZZ, max_examples=100)
@given(ops=mutations())
def test_mutated_npz(scratch, valid, ops):
    got = attempt(read_npz, scratch/'mutated.npz', mutate(valid['npz'], ops))
    if got is not None:
        for x, y in got: check_csv((x, y))
