"Preparing digits for the VAE: split, normalize, flatten, the tf.data pipeline, plots, and atomic writers."
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vae_mnist.data import (flatten, make_dataset, normalize, plot_samples, read_csv, read_idx, save_figure,
                            train_val_split, write_csv, write_idx)


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


def test_make_dataset_batches(small):
    (x, y), _ = small
    xf = flatten(normalize(x[:100]))
    ds = make_dataset(xf, y[:100], batch_size=16, seed=1)
    batches = [(np.asarray(bx), np.asarray(by)) for bx, by in ds]
    assert [len(bx) for bx, _ in batches] == [16] * 6 + [4]
    bx_all, by_all = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    order = np.argsort([r.tobytes() for r in bx_all]); ref = np.argsort([r.tobytes() for r in xf])
    np.testing.assert_array_equal(bx_all[order], xf[ref]); np.testing.assert_array_equal(by_all[order], y[:100][ref])
    assert not np.array_equal(bx_all, xf)  # shuffled
    again = np.concatenate([bx for bx, _ in make_dataset(xf, y[:100], batch_size=16, seed=1)])
    np.testing.assert_array_equal(again, bx_all)  # same seed, same first epoch
    assert [len(b) for b in make_dataset(xf, batch_size=16, drop_remainder=True)] == [16] * 6
    plain = np.concatenate(list(make_dataset(xf, batch_size=32, shuffle=False)))
    np.testing.assert_array_equal(plain, xf)  # no labels: batches of images only, in order without shuffle
    ds.on_epoch_end()  # as fit calls it: the next epoch has a new order, from (seed, epoch) alone
    second = np.concatenate([bx for bx, _ in ds])
    assert not np.array_equal(second, bx_all) and sorted(map(bytes, second)) == sorted(map(bytes, bx_all))


def test_plot_samples_returns_a_figure(small, tmp_path):
    from matplotlib.figure import Figure
    (x, y), _ = small
    fig = plot_samples(x, y, n=10, ncols=4)
    assert isinstance(fig, Figure)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 12 and len(shown) == 10
    assert [ax.get_title() for ax in shown] == [str(v) for v in y[:10]]
    np.testing.assert_array_equal(shown[3].images[0].get_array(), x[3])
    assert isinstance(plot_samples(flatten(normalize(x)), n=5), Figure)  # (N, 784) floats, no labels
    p = save_figure(fig, tmp_path/'out'/'grid.png')
    assert p.read_bytes()[:4] == b'\x89PNG' and [q.name for q in p.parent.iterdir()] == ['grid.png']
