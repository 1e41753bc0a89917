"""Data (nbs/03_data.ipynb): every source load_mnist reads, where it finds them (argument > env var > known folder > cache > download), the verified download, splits and atomic writers."""
import csv
import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vae_mnist import data
from vae_mnist.core import flatten, normalize
from vae_mnist.data import (CSV_COLUMNS, DataError, RemoteFile, download, load_mnist, locate, read_csv, read_idx,
                            train_val_split, write_csv, write_idx)

from conftest import IDX_FILES


# --- Every source `load_mnist` reads (IDX gz/plain/Kaggle spelling, Kaggle CSV, npz, Debian's Fashion-MNIST), from real data.

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


# --- Where `load_mnist` reads from (argument > env var > known folder > cache > download) and the verified download.

def sha256(path): return hashlib.sha256(path.read_bytes()).hexdigest()


def save_npz(path, small, n):
    "An npz of the first `n` real training digits (so each place is told apart by its size)."
    (xa, ya), (xb, yb) = small
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x_train=xa[:n], y_train=ya[:n], x_test=xb[:n], y_test=yb[:n])
    return path


@pytest.fixture
def places(tmp_path, small, monkeypatch):
    "A different small MNIST at each place `load_mnist` looks; `download` replaced by a recorder; returns the folders."
    p = {name: tmp_path/name for name in ('arg', 'env', 'known', 'keras_home', 'downloaded')}
    p['cache'] = p['keras_home']/'datasets'/'vae_mnist'/'mnist'
    for n, name in ((5, 'arg'), (6, 'env'), (7, 'known'), (8, 'cache'), (9, 'downloaded')):
        save_npz(p[name]/'mnist.npz', small, n)
    monkeypatch.setenv('VAE_MNIST_DATA', str(p['env']))
    monkeypatch.setitem(data.KNOWN_DIRS, 'mnist', (tmp_path/'absent', p['known']))
    monkeypatch.setenv('KERAS_HOME', str(p['keras_home']))
    p['calls'] = []
    def fake_download(dataset='mnist', cache_dir=None, files=None):
        p['calls'].append((dataset, cache_dir)); return p['downloaded']
    monkeypatch.setattr(data, 'download', fake_download)
    return p


def n_train(source=None, **kw): return len(load_mnist(source, **kw)[0][0])


def test_order_argument_env_known_cache_download(places, monkeypatch):
    assert n_train(places['arg']) == 5                       # 1. the argument
    assert n_train() == 6                                    # 2. VAE_MNIST_DATA
    monkeypatch.delenv('VAE_MNIST_DATA')
    assert n_train() == 7                                    # 3. a known folder
    monkeypatch.setitem(data.KNOWN_DIRS, 'mnist', ())
    assert n_train() == 8                                    # 4. the cache under KERAS_HOME
    assert places['calls'] == []                             # nothing was downloaded while something local existed
    (places['cache']/'mnist.npz').unlink()
    assert n_train() == 9                                    # 5. the download
    assert places['calls'] == [('mnist', None)]


def test_argument_wins_even_when_it_is_an_npz_file(places):
    assert n_train(places['arg']/'mnist.npz') == 5 and places['calls'] == []


def test_env_var_read_as_given(places, monkeypatch, tmp_path):
    monkeypatch.setenv('VAE_MNIST_DATA', str(tmp_path/'typo'))  # a wrong env var is an error, not a fallback
    with pytest.raises(DataError, match="typo: no such file or folder"): load_mnist()
    assert places['calls'] == []


def test_known_folder_needs_a_complete_dataset(places, monkeypatch, small):
    monkeypatch.delenv('VAE_MNIST_DATA')
    (places['known']/'mnist.npz').unlink()
    (xa, ya), _ = small
    write_idx(places['known']/f'{IDX_FILES[0]}.gz', xa); write_idx(places['known']/f'{IDX_FILES[1]}.gz', ya)
    assert n_train() == 8  # half an IDX set is skipped: the cache is next
    assert places['calls'] == []


def test_cache_dir_argument(places, monkeypatch, tmp_path, small):
    monkeypatch.delenv('VAE_MNIST_DATA'); monkeypatch.setitem(data.KNOWN_DIRS, 'mnist', ())
    other = tmp_path/'other_cache'
    save_npz(other/'datasets'/'vae_mnist'/'mnist'/'mnist.npz', small, 11)
    assert n_train(cache_dir=other) == 11 and places['calls'] == []
    assert n_train(cache_dir=tmp_path/'empty_cache') == 9
    assert places['calls'] == [('mnist', tmp_path/'empty_cache')]


def test_no_download_when_downloads_are_off(places, monkeypatch):
    monkeypatch.delenv('VAE_MNIST_DATA'); monkeypatch.setitem(data.KNOWN_DIRS, 'mnist', ())
    (places['cache']/'mnist.npz').unlink()
    with pytest.raises(DataError, match="downloads are off.*VAE_MNIST_DATA"): load_mnist(download_ok=False)
    assert places['calls'] == []


def test_fashion_has_its_own_env_var(places, monkeypatch, small):
    save_npz(places['env']/'fashion_mnist.npz', small, 12)
    monkeypatch.setenv('VAE_FASHION_MNIST_DATA', str(places['env']))
    assert n_train(dataset='fashion_mnist') == 12 and places['calls'] == []


def test_unknown_dataset_everywhere(tmp_path):
    for fn in (lambda: locate(dataset='emnist'), lambda: load_mnist(tmp_path, dataset='emnist'),
               lambda: download('emnist', cache_dir=tmp_path), lambda: download('emnist', tmp_path, files=[])):
        with pytest.raises(DataError, match="^emnist: unknown dataset"): fn()


# --- the download itself, from file:// origins (Keras's get_file reads them like any URL)

@pytest.fixture
def origin(tmp_path, small):
    return save_npz(tmp_path/'origin'/'mnist.npz', small, 10)


def cached_files(cache):
    return sorted(str(p.relative_to(cache)) for p in cache.rglob('*') if p.is_file() and p.name != 'keras.json')


def test_download_verifies_then_reuses_the_cache(tmp_path, origin, small, monkeypatch):
    cache = tmp_path/'fresh_cache'  # does not exist yet
    remote = [RemoteFile('mnist.npz', origin.as_uri(), sha256(origin))]
    folder = download('mnist', cache_dir=cache, files=remote)
    assert folder == cache/'datasets'/'vae_mnist'/'mnist'
    assert cached_files(cache) == ['datasets/vae_mnist/mnist/mnist.npz']
    assert (folder/'mnist.npz').read_bytes() == origin.read_bytes()
    origin.unlink()  # from now on only the cache has it
    assert download('mnist', cache_dir=cache, files=remote) == folder
    monkeypatch.delenv('VAE_MNIST_DATA', raising=False); monkeypatch.setitem(data.KNOWN_DIRS, 'mnist', ())
    monkeypatch.setattr(data, 'download', lambda *a, **k: pytest.fail("the cache holds it: no download"))
    assert locate(cache_dir=cache) == folder and n_train(cache_dir=cache) == 10


def test_download_into_keras_home(tmp_path, origin, monkeypatch):
    monkeypatch.setenv('KERAS_HOME', str(tmp_path/'kh'))
    folder = download('mnist', files=[RemoteFile('mnist.npz', origin.as_uri(), sha256(origin))])
    assert folder == tmp_path/'kh'/'datasets'/'vae_mnist'/'mnist' and (folder/'mnist.npz').is_file()


def test_checksum_mismatch_leaves_nothing_in_the_cache(tmp_path, origin):
    cache = tmp_path/'cache'
    bad = RemoteFile('mnist.npz', origin.as_uri(), '0' * 64)
    with pytest.raises(DataError) as e: download('mnist', cache_dir=cache, files=[bad])
    msg = str(e.value)
    assert msg.startswith(f"{cache/'datasets'/'vae_mnist'/'mnist'/'mnist.npz'}: checksum mismatch")
    assert origin.as_uri() in msg and sha256(origin)[:16] in msg and "the file was removed" in msg
    assert cached_files(cache) == []  # no bad file, no partial file
    assert origin.exists()


def test_gunzipped_hash_accepts_any_faithful_gzip(tmp_path, small):
    # Debian re-compresses Fashion-MNIST: the same IDX bytes in different gzip streams must all pass
    (xa, _), _ = small
    raw = write_idx(tmp_path/'raw', xa).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    for level in (1, 9):
        src = tmp_path/f'level{level}'/'x.gz'; src.parent.mkdir(); src.write_bytes(gzip.compress(raw, compresslevel=level))
        cache = tmp_path/f'cache{level}'
        folder = download('mnist', cache_dir=cache, files=[RemoteFile('x.gz', src.as_uri(), digest, gunzipped=True)])
        assert (folder/'x.gz').read_bytes() == src.read_bytes()
    assert (tmp_path/'level1'/'x.gz').read_bytes() != (tmp_path/'level9'/'x.gz').read_bytes()
    notgz = tmp_path/'notgz'/'x.gz'; notgz.parent.mkdir(); notgz.write_bytes(raw)
    with pytest.raises(DataError, match="checksum mismatch.*SHA-256 not a readable"):
        download('mnist', cache_dir=tmp_path/'c3', files=[RemoteFile('x.gz', notgz.as_uri(), digest, gunzipped=True)])
    assert cached_files(tmp_path/'c3') == []


def test_offline_message(tmp_path):
    url = 'http://127.0.0.1:9/mnist.npz'  # the discard port: nothing listens
    with pytest.raises(DataError) as e:
        download('mnist', cache_dir=tmp_path, files=[RemoteFile('mnist.npz', url, '0' * 64)])
    msg = str(e.value)
    assert msg.startswith(f"{url}: download failed") and '\n' not in msg
    for hint in ("Offline?", "VAE_MNIST_DATA=/path/to/folder", "load_mnist('/path/to/folder')", "mnist.npz",
                 "mnist_train.csv + mnist_test.csv", "IDX files"):
        assert hint in msg, msg
    assert cached_files(tmp_path) == []


def test_download_failure_without_a_message(tmp_path, monkeypatch):
    import keras.utils
    def fail(*a, **k): raise ConnectionResetError()
    monkeypatch.setattr(keras.utils, 'get_file', fail)
    with pytest.raises(DataError, match=r"^https://h/m\.npz: download failed \(ConnectionResetError\)\. Offline\?"):
        download('mnist', cache_dir=tmp_path, files=[RemoteFile('m.npz', 'https://h/m.npz', '0' * 64)])


def test_offline_message_from_load_mnist(tmp_path, monkeypatch):
    # the whole default path with nothing local: env unset, no known folder, empty cache, unreachable origin
    monkeypatch.delenv('VAE_FASHION_MNIST_DATA', raising=False)
    monkeypatch.setitem(data.KNOWN_DIRS, 'fashion_mnist', ())
    monkeypatch.setitem(data.REMOTE, 'fashion_mnist', (RemoteFile('a.gz', 'http://127.0.0.1:9/a.gz', '0' * 64),))
    with pytest.raises(DataError, match=r"download failed.*VAE_FASHION_MNIST_DATA=/path/to/folder.*fashion_mnist\.npz"):
        load_mnist(dataset='fashion_mnist', cache_dir=tmp_path/'c')
    assert cached_files(tmp_path/'c') == []


# --- Preparing digits for the VAE: split, normalize, flatten, and atomic writers.

def test_train_val_split_stratified_seeded_disjoint(mnist_train):
    _, y = mnist_train
    idx = np.arange(len(y))  # split the row numbers, to see exactly which rows go where
    (it, yt), (iv, yv) = train_val_split(idx, y, val_frac=0.1, seed=3)
    assert len(np.intersect1d(it, iv)) == 0 and np.array_equal(np.sort(np.concatenate([it, iv])), idx)
    np.testing.assert_array_equal(y[it], yt); np.testing.assert_array_equal(y[iv], yv)
    counts = np.bincount(y, minlength=10)
    assert np.bincount(yv, minlength=10).tolist() == [round(0.1 * c) for c in counts]  # every class keeps its share
    again = train_val_split(idx, y, val_frac=0.1, seed=3)
    np.testing.assert_array_equal(again[1][0], iv)  # same seed, same split
    other = train_val_split(idx, y, val_frac=0.1, seed=4)
    assert not np.array_equal(other[1][0], iv) and len(other[1][0]) == len(iv)


def test_train_val_split_keeps_images_with_labels(small):
    (x, y), _ = small
    (xt, yt), (xv, yv) = train_val_split(x, y, val_frac=0.25, seed=0)
    assert len(xt) + len(xv) == len(x) and xv.shape[1:] == (28, 28)
    rows = {xi.tobytes(): yi for xi, yi in zip(x, y)}
    assert all(rows[xi.tobytes()] == yi for xi, yi in zip(np.concatenate([xt, xv]), np.concatenate([yt, yv])))


@pytest.mark.parametrize('val_frac', [0, 1, -0.1, 1.5])
def test_train_val_split_fraction_bounds(val_frac):
    with pytest.raises(ValueError, match="val_frac must be between 0 and 1"):
        train_val_split(np.zeros((10, 28, 28)), np.arange(10) % 2, val_frac)


def test_normalize_and_flatten(small):
    (x, _), _ = small
    xf = normalize(x)
    assert xf.dtype == np.float32 and xf.shape == x.shape
    assert xf.min() == 0.0 and xf.max() == 1.0
    np.testing.assert_allclose(xf * 255, x, atol=1e-4)
    assert normalize(np.array([0, 51, 255], np.uint8)).tolist() == pytest.approx([0, 0.2, 1])
    v = flatten(xf)
    assert v.shape == (len(x), 784) and v.dtype == np.float32
    np.testing.assert_array_equal(v[7], xf[7].ravel())  # row-major: row i of the image is v[i*28:(i+1)*28]
    np.testing.assert_array_equal(v[7, 28:56], xf[7, 1])
    np.testing.assert_array_equal(flatten(x).reshape(-1, 28, 28), x)


def test_write_idx_replaces_a_file_whole(tmp_path, small):
    (x, _), _ = small
    p = write_idx(tmp_path/'x.idx', x)  # 300 images
    write_idx(p, x[:2])                 # then 2: nothing of the longer file may remain
    assert p.stat().st_size == 16 + 2 * 784
    np.testing.assert_array_equal(read_idx(p), x[:2])
    assert [q.name for q in tmp_path.iterdir()] == ['x.idx']  # no temporary file left


def test_write_csv_replaces_a_file_whole(tmp_path, small):
    (x, y), _ = small
    p = write_csv(tmp_path/'sub'/'mnist_test.csv', x, y)  # creates the folder too
    write_csv(p, x[:3], y[:3])
    got = read_csv(p)
    np.testing.assert_array_equal(got[0], x[:3]); np.testing.assert_array_equal(got[1], y[:3])
    assert [q.name for q in p.parent.iterdir()] == ['mnist_test.csv']


def test_interrupted_write_keeps_the_old_file(tmp_path, small, monkeypatch):
    (x, y), _ = small
    p = write_idx(tmp_path/'x.idx', x[:4]); old = p.read_bytes()
    c = write_csv(tmp_path/'x.csv', x[:4], y[:4]); old_csv = c.read_bytes()

    def disk_full(self, data):  # writes part of the bytes, then fails
        with open(self, 'wb') as f: f.write(data[:100])
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(Path, 'write_bytes', disk_full)
    with pytest.raises(OSError, match="No space"): write_idx(p, x)
    monkeypatch.setattr(pd.DataFrame, 'to_csv', lambda self, path, **k: disk_full(Path(path), b'label,1x1\n0,0'))
    with pytest.raises(OSError, match="No space"): write_csv(c, x, y)
    assert p.read_bytes() == old and c.read_bytes() == old_csv
    assert sorted(q.name for q in tmp_path.iterdir()) == ['x.csv', 'x.idx']
