"Where `load_mnist` reads from (argument > env var > known folder > cache > download) and the verified download."
import gzip
import hashlib

import numpy as np
import pytest

from vae_mnist import data
from vae_mnist.data import DataError, RemoteFile, download, load_mnist, locate, write_idx

from conftest import IDX_FILES


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
