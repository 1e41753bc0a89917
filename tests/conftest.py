"Shared fixtures for the data tests: the real offline MNIST, small real slices of it, Fashion-MNIST from Debian."
import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # test this checkout's package, whatever the working directory
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('MPLBACKEND', 'Agg')

from vae_mnist.data import read_idx  # noqa: E402

SHARED_MNIST = REPO.parent/'shared'/'data'/'mnist-22k'  # what the Makefile exports as VAE_MNIST_DATA
FASHION_DIR = Path('/usr/share/datasets/fashion-mnist')  # Debian's dataset-fashion-mnist
IDX_FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')


@pytest.fixture(scope='session')
def mnist_dir() -> Path:
    "The folder of real MNIST IDX files: `VAE_MNIST_DATA` if it holds them, else `<repo>/../shared/data/mnist-22k`."
    for d in (os.environ.get('VAE_MNIST_DATA'), SHARED_MNIST):
        if d and all((Path(d)/f'{n}.gz').is_file() for n in IDX_FILES): return Path(d)
    pytest.fail(f"no real MNIST IDX files: set VAE_MNIST_DATA or provide {SHARED_MNIST}")


@pytest.fixture(scope='session')
def mnist_test(mnist_dir):
    "The real 10,000-image MNIST test set, read with `read_idx`: `(x, y)`."
    return read_idx(mnist_dir/'t10k-images-idx3-ubyte.gz'), read_idx(mnist_dir/'t10k-labels-idx1-ubyte.gz')


@pytest.fixture(scope='session')
def mnist_train(mnist_dir):
    "The real MNIST training images of the offline copy (22,699 of them), read with `read_idx`: `(x, y)`."
    return read_idx(mnist_dir/'train-images-idx3-ubyte.gz'), read_idx(mnist_dir/'train-labels-idx1-ubyte.gz')


@pytest.fixture(scope='session')
def small(mnist_train, mnist_test):
    "Small real slices, `((x_train, y_train), (x_test, y_test))`: 300 training and 100 test digits."
    (xa, ya), (xb, yb) = mnist_train, mnist_test
    return (xa[:300], ya[:300]), (xb[:100], yb[:100])


@pytest.fixture(scope='session')
def fashion_dir() -> Path:
    "Debian's Fashion-MNIST folder; skipped where it is not installed, but a failure under CI (which installs it)."
    if all((FASHION_DIR/f'{n}.gz').is_file() for n in IDX_FILES): return FASHION_DIR
    msg = f"{FASHION_DIR} is missing (apt-get install dataset-fashion-mnist)"
    if os.environ.get('CI'): pytest.fail(f"CI must install Fashion-MNIST: {msg}")
    pytest.skip(msg)


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path, monkeypatch):
    "Every test gets its own Keras cache folder, so none reads or writes `~/.keras`."
    monkeypatch.setenv('KERAS_HOME', str(tmp_path/'keras_home'))


def pytest_configure(config):
    # Keras converts tensors with np.array(x, copy=False) under numpy 2; numpy warns on every conversion. Not ours.
    config.addinivalue_line('filterwarnings', "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
