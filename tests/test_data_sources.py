"Every source `load_mnist` reads (IDX gz/plain/Kaggle spelling, Kaggle CSV, npz, Debian's Fashion-MNIST), from real data."
import csv
import gzip

import numpy as np
import pytest

from vae_mnist import data
from vae_mnist.data import CSV_COLUMNS, load_mnist, locate, read_csv, read_idx, write_csv, write_idx

from conftest import IDX_FILES


def assert_same(got, want):
    "Two `((x_train, y_train), (x_test, y_test))` tuples hold equal uint8 arrays."
    for g, w in zip((a for split in got for a in split), (a for split in want for a in split)):
        assert g.dtype == np.uint8 and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize('spelling', ['-idx', '.idx'], ids=['canonical', 'kaggle'])
@pytest.mark.parametrize('suffix', ['.gz', ''], ids=['gz', 'plain'])
def test_idx_folder(tmp_path, small, spelling, suffix):
    (xa, ya), (xb, yb) = small
    for name, a in zip(IDX_FILES, (xa, ya, xb, yb)):
        write_idx(tmp_path/f"{name.replace('-idx', spelling)}{suffix}", a)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n.replace('-idx', spelling)}{suffix}" for n in IDX_FILES)
    assert_same(load_mnist(source=tmp_path), small)


def test_write_idx_gives_the_canonical_bytes(tmp_path, mnist_dir, mnist_test):
    # the offline t10k files are the canonical ones byte for byte: writing what we read must reproduce them
    x, y = mnist_test
    assert write_idx(tmp_path/'x', x).read_bytes() == gzip.decompress((mnist_dir/'t10k-images-idx3-ubyte.gz').read_bytes())
    assert write_idx(tmp_path/'y', y).read_bytes() == gzip.decompress((mnist_dir/'t10k-labels-idx1-ubyte.gz').read_bytes())
    assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == data.KNOWN_COUNTS['mnist', 10000]


def test_gzipped_idx_is_gzip(tmp_path, small):
    (x, _), _ = small
    raw = gzip.decompress(write_idx(tmp_path/'x.gz', x).read_bytes())
    assert raw[:4] == b'\0\0\x08\x03' and len(raw) == 16 + x.size
    np.testing.assert_array_equal(read_idx(tmp_path/'x.gz'), x)


def test_kaggle_csv_pair(tmp_path, small):
    (xa, ya), (xb, yb) = small
    write_csv(tmp_path/'mnist_train.csv', xa, ya)
    write_csv(tmp_path/'mnist_test.csv', xb.reshape(len(xb), -1), yb)  # (N, 784) works too
    assert_same(load_mnist(source=tmp_path), small)
    with open(tmp_path/'mnist_test.csv', newline='') as f:  # the layout, read without pandas
        rows = list(csv.reader(f))
    assert rows[0] == CSV_COLUMNS and rows[0][:3] == ['label', '1x1', '1x2'] and rows[0][-1] == '28x28'
    assert len(rows) == 1 + len(xb) and [int(v) for v in rows[1]] == [int(yb[0]), *xb[0].ravel().tolist()]


def test_csv_gzipped(tmp_path, small):
    (xa, ya), _ = small
    raw = write_csv(tmp_path/'plain.csv', xa, ya).read_bytes()
    (tmp_path/'mnist_train.csv.gz').write_bytes(gzip.compress(raw))
    x, y = read_csv(tmp_path/'mnist_train.csv.gz')
    np.testing.assert_array_equal(x, xa); np.testing.assert_array_equal(y, ya)


def test_csv_label_column_anywhere(tmp_path, small):
    (xa, ya), _ = small
    cols = CSV_COLUMNS[1:4] + [' Label'] + CSV_COLUMNS[4:]  # label in 4th place, spelled loosely
    flat = xa[:5].reshape(5, -1)
    rows = [','.join(cols)] + [','.join(map(str, [*r[:3], l, *r[3:]])) for r, l in zip(flat.tolist(), ya[:5].tolist())]
    (tmp_path/'c.csv').write_text('\n'.join(rows) + '\n')
    x, y = read_csv(tmp_path/'c.csv')
    np.testing.assert_array_equal(x, xa[:5]); np.testing.assert_array_equal(y, ya[:5])


def test_npz_file_and_folder(tmp_path, small):
    (xa, ya), (xb, yb) = small
    np.savez_compressed(tmp_path/'mnist.npz', x_train=xa, y_train=ya, x_test=xb, y_test=yb)
    assert_same(load_mnist(source=tmp_path/'mnist.npz'), small)
    assert_same(load_mnist(source=tmp_path), small)


def test_npz_other_dtypes_are_checked_and_converted(tmp_path, small):
    (xa, ya), (xb, yb) = small
    np.savez(tmp_path/'mnist.npz', x_train=xa.astype(np.int64), y_train=ya.astype(np.float32),
             x_test=xb.astype(np.float64).reshape(len(xb), 784), y_test=yb.astype(np.int16))
    assert_same(load_mnist(source=tmp_path/'mnist.npz'), small)


def test_real_mnist_from_env(mnist_dir, mnist_train, monkeypatch):
    monkeypatch.setenv('VAE_MNIST_DATA', str(mnist_dir))
    (x, y), (xt, yt) = load_mnist()
    assert x.shape == (22699, 28, 28) and xt.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == data.KNOWN_COUNTS['mnist', 22699]
    np.testing.assert_array_equal(x, mnist_train[0])


def test_fashion_mnist_from_debian_folder(fashion_dir, monkeypatch):
    monkeypatch.delenv('VAE_FASHION_MNIST_DATA', raising=False)
    monkeypatch.setattr(data, 'download', lambda *a, **k: pytest.fail("must not download: the Debian folder exists"))
    assert locate(dataset='fashion_mnist') == fashion_dir  # found with no argument
    (x, y), (xt, yt) = load_mnist(dataset='fashion_mnist')
    assert (x.shape, xt.shape, x.dtype, y.dtype) == ((60000, 28, 28), (10000, 28, 28), np.uint8, np.uint8)
    assert np.bincount(y, minlength=10).tolist() == [6000] * 10
    assert np.bincount(yt, minlength=10).tolist() == [1000] * 10
    assert int(x.max()) == 255 and int(x.min()) == 0
