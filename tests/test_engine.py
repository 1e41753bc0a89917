"The engine (nbs/05_engine.ipynb): batches and their seeded order, one compiled epoch equal to its steps one at a time, sums without gradients."
import keras
import numpy as np
import pytest
from keras import ops

from vae_mnist.core import flatten, normalize
from vae_mnist.engine import (BACKENDS, backend, chunk_index, compile_epoch, compile_sums, epoch_order, has_gpu, jit_compile,
                              make_dataset, set_seed)
from vae_mnist.model import PRESETS, VAE


def test_epoch_order_is_seeded_and_drops_only_the_last_partial_batch():
    o = epoch_order(100, 16, seed=3, epoch=2)
    assert o.shape == (6, 16) and o.dtype == np.int32 and len(np.unique(o)) == 96 and o.max() < 100
    np.testing.assert_array_equal(o, epoch_order(100, 16, seed=3, epoch=2))
    assert not np.array_equal(o, epoch_order(100, 16, seed=3, epoch=3)) and not np.array_equal(o, epoch_order(100, 16, seed=4, epoch=2))
    with pytest.raises(ValueError, match='at least one full batch'): epoch_order(15, 16, 0, 0)


def test_chunk_index_pads_with_minus_one():
    c = chunk_index(1001, 250)
    assert c.shape == (5, 250) and (c[:-1] >= 0).all() and c[-1, 0] == 1000 and (c[-1, 1:] == -1).all()
    np.testing.assert_array_equal(np.sort(c[c >= 0]), np.arange(1001))


def test_backend_and_jit():
    assert backend() in BACKENDS
    assert jit_compile(dense=True) is (backend() != 'torch')
    assert jit_compile(dense=False) is {'jax': True, 'torch': False}.get(backend(), has_gpu())  # TF: XLA convolutions only on a GPU


def _vae(xs, seed=3):
    set_seed(seed)
    m = VAE(PRESETS['seed']); m.compile(optimizer=keras.optimizers.Adam(1e-3))
    m(xs[:2]); m.optimizer.build(m.trainable_variables)
    return m


def _loss(m):
    def loss(data, rows):
        xb = ops.take(data['images'], rows['batch'], axis=0)
        return m.loss_terms(xb, m(xb, training=True))
    return loss


@pytest.mark.parametrize('jit', [False, True])
def test_one_epoch_call_equals_its_steps_one_at_a_time(mnist_test, jit):
    x, _ = mnist_test
    xs = flatten(normalize(x[:64]))
    a, b = _vae(xs), _vae(xs)
    data, order = {'images': ops.convert_to_tensor(xs)}, np.arange(64).reshape(4, 16)
    names = ('loss', 'reconstruction', 'kl')
    logs = compile_epoch(a, a.trainable_variables, _loss(a), names, jit=jit)(data, {'batch': order})
    one = compile_epoch(b, b.trainable_variables, _loss(b), names, jit=jit)
    steps = [one(data, {'batch': order[i:i + 1]}) for i in range(4)]
    for wa, wb in zip(a.get_weights(), b.get_weights()): np.testing.assert_allclose(wa, wb, atol=1e-5)
    assert int(a.optimizer.iterations) == 4 and set(logs) == set(names)
    assert logs['loss'] == pytest.approx(np.mean([s['loss'] for s in steps]), rel=1e-3)


def test_sums_cover_every_row_once(mnist_test):
    x, _ = mnist_test
    xs = flatten(normalize(x[:250]))
    m = _vae(xs)
    def f(data, rows):
        keep = ops.cast(rows['chunk'] >= 0, 'float32')
        xb = ops.take(data['images'], ops.maximum(rows['chunk'], 0), axis=0)
        return ops.stack([ops.sum(keep), ops.sum(ops.sum(xb, axis=1) * keep)])
    n, total = compile_sums(m, f, 2)({'images': ops.convert_to_tensor(xs)}, {'chunk': chunk_index(250, 100)})
    assert n == 250 and total == pytest.approx(float(xs.sum()), rel=1e-5)


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
