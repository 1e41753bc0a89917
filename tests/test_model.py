"The VAE model: every preset's shapes, save/load, the loss terms against numpy and Monte Carlo, the config."
import json

import keras
import numpy as np
import pytest
from keras import ops

from vae_mnist.core import normalize
from vae_mnist.model import (PRESETS, VAE, VAEConfig, get_config, kl_divergence, load_model, load_pretrained,
                             model_card, pretrained_names, reconstruction_loss)


def _inputs(config, x, y):
    return (x, y) if config.conditional else x


@pytest.mark.parametrize('name', sorted(PRESETS))
def test_preset_shapes_and_fit(name, mnist_test):
    x, y = normalize(mnist_test[0][:64]), mnist_test[1][:64]
    keras.utils.set_random_seed(0)
    c = get_config(name)
    vae = VAE(c)
    for shape in [(64, 784), (64, 28, 28), (64, 28, 28, 1)]:  # every image layout is accepted
        out = vae(_inputs(c, x.reshape(shape), y))
        assert tuple(out['x_hat'].shape) == (64, 28, 28)
        assert tuple(out['z_mean'].shape) == tuple(out['z_log_var'].shape) == (64, c.latent_dim)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    h = vae.fit(_inputs(c, x, y), batch_size=16, epochs=2, verbose=0, validation_data=(_inputs(c, x, y),))
    assert set(h.history) == {'loss', 'reconstruction', 'kl', 'val_loss', 'val_reconstruction', 'val_kl'}
    assert np.isfinite(h.history['loss']).all()


@pytest.mark.parametrize('name', sorted(PRESETS))
def test_save_load_identical(name, mnist_test, tmp_path):
    x, y = normalize(mnist_test[0][:32]), mnist_test[1][:32]
    c = get_config(name)
    vae = VAE(c)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    vae.fit(_inputs(c, x, y), batch_size=16, epochs=1, verbose=0)
    vae.save(tmp_path/'m.keras')
    back = load_model(tmp_path/'m.keras')
    assert back.config == c
    for a, b in zip(vae.get_weights(), back.get_weights()): np.testing.assert_array_equal(a, b)
    z = np.random.default_rng(0).normal(size=(5, c.latent_dim))
    kw = {'y': [1, 2, 3, 4, 5]} if c.conditional else {}
    np.testing.assert_array_equal(vae.decode(z, **kw), back.decode(z, **kw))
    np.testing.assert_array_equal(vae.encode(*([x, y] if c.conditional else [x]))[0],
                                  back.encode(*([x, y] if c.conditional else [x]))[0])
    # the sampler's seed state travels too: the next (random) forward pass is the same
    np.testing.assert_array_equal(ops.convert_to_numpy(vae(_inputs(c, x, y))['x_hat']),
                                  ops.convert_to_numpy(back(_inputs(c, x, y))['x_hat']))
    # the optimizer state travels too, so training can go on
    assert int(back.optimizer.iterations) == int(vae.optimizer.iterations) == 2


def test_load_model_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such model file'): load_model(tmp_path/'nope.keras')


def test_kl_closed_form_vs_monte_carlo():
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)) * 0.5
    closed = ops.convert_to_numpy(kl_divergence(mu, log_var))
    n = 200_000
    z = mu[:, None] + np.exp(0.5 * log_var)[:, None] * rng.standard_normal((3, n, 4))
    log_q = -0.5 * (np.log(2 * np.pi) + log_var[:, None] + (z - mu[:, None]) ** 2 / np.exp(log_var)[:, None]).sum(-1)
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2).sum(-1)
    mc = (log_q - log_p).mean(1)
    se = (log_q - log_p).std(1) / np.sqrt(n)
    assert np.all(np.abs(closed - mc) < 5 * se + 1e-3), (closed, mc, se)
    # and the textbook special cases
    np.testing.assert_allclose(ops.convert_to_numpy(kl_divergence(np.zeros((1, 3)), np.zeros((1, 3)))), [0.0], atol=1e-7)
    np.testing.assert_allclose(ops.convert_to_numpy(kl_divergence(np.zeros((1, 1)), np.log([[4.0]]))),
                               [0.5 * (4 - 1 - np.log(4))], rtol=1e-6)


def test_reconstruction_loss_vs_numpy():
    rng = np.random.default_rng(1)
    x = (rng.random((5, 28, 28)) > 0.5).astype('float32')
    logits = rng.normal(size=(5, 784)).astype('float32') * 3
    p = 1 / (1 + np.exp(-logits.astype('float64')))
    bce = -(x.reshape(5, -1) * np.log(p) + (1 - x.reshape(5, -1)) * np.log(1 - p)).sum(1)
    np.testing.assert_allclose(ops.convert_to_numpy(reconstruction_loss(x, logits, 'bernoulli')), bce, rtol=1e-4)
    sse = ((x.reshape(5, -1) - p) ** 2).sum(1)
    np.testing.assert_allclose(ops.convert_to_numpy(reconstruction_loss(x, logits, 'gaussian')), sse, rtol=1e-4)
    with pytest.raises(ValueError, match='likelihood must be one of'): reconstruction_loss(x, logits, 'laplace')


def test_config_round_trip_and_validation():
    for name in PRESETS:
        c = get_config(name)
        assert VAEConfig.from_dict(json.loads(json.dumps(c.to_dict()))) == c
        assert VAE.from_config(VAE(c).get_config()).config == c
    assert get_config('cvae', latent_dim=3).latent_dim == 3 and PRESETS['cvae'].latent_dim == 8
    with pytest.raises(ValueError, match='unknown preset'): get_config('nope')
    with pytest.raises(ValueError, match="arch must be"): VAEConfig(arch='rnn')


def test_seed_preset_is_the_seed():
    c = PRESETS['seed']
    assert (c.hidden, c.latent_dim, c.likelihood, c.beta, c.learning_rate, c.batch_size, c.epochs) == \
           ((64, 16, 8), 2, 'gaussian', 1.0, 1e-3, 16, 25)
    vae = VAE(c); vae(np.zeros((1, 784), "float32"))
    assert vae.count_params() == 103_668  # as the seed's Keras-2 model (bench/seed_reference.py)


def test_sampling_is_seeded():
    a, b = VAE(get_config('seed', seed=7)), VAE(get_config('seed', seed=7))
    b.set_weights(a.get_weights())
    x = np.random.default_rng(0).random((8, 784)).astype('float32')
    np.testing.assert_array_equal(ops.convert_to_numpy(a(x)['z_mean']), ops.convert_to_numpy(b(x)['z_mean']))
    np.testing.assert_array_equal(ops.convert_to_numpy(a(x)['x_hat']), ops.convert_to_numpy(b(x)['x_hat']))


@pytest.mark.parametrize('name', ['seed', 'cvae'])
def test_pretrained_loads_offline(name, mnist_test):
    assert name in pretrained_names()
    vae = load_pretrained(name)
    card = model_card(name)
    assert card['preset'] == name and vae.config == VAEConfig.from_dict(card['config'])
    assert '22,699' in card['data'] or '60,000' in card['data']
    # its recorded test loss is what it really scores (stochastic z: allow a little noise)
    c = vae.config
    x, y = normalize(mnist_test[0]), mnist_test[1]
    ev = vae.evaluate(_inputs(c, x, y), batch_size=1000, verbose=0, return_dict=True)
    assert abs(ev['loss'] - card['test']['loss']) < 0.02 * card['test']['loss'], (ev, card['test'])
    with pytest.raises(ValueError, match='no pretrained model'): load_pretrained('nope')


_DECODE = """
import sys, numpy as np
from vae_mnist.engine import backend
from vae_mnist.generate import load_generator
from vae_mnist.model import pretrained_names
z, y, out = np.random.default_rng(0).standard_normal((64, 32)).astype('float32'), np.arange(64) % 10, {}
for name in pretrained_names():
    m = load_generator(name)
    out[name] = m.decode(z[:, :m.config.latent_dim], y if m.config.conditional else None)
np.savez(sys.argv[1], backend=backend(), **out)
"""


def test_bundled_models_decode_the_same_on_every_backend(tmp_path):
    "Every bundled model, loaded in a fresh process on each Keras backend installed, decodes the same 64 points to 1e-4."
    import os, subprocess, sys
    from pathlib import Path
    got, missing = {}, []
    for b in ('tensorflow', 'jax', 'torch'):
        p = subprocess.run([sys.executable, '-c', _DECODE, str(tmp_path/f'{b}.npz')], capture_output=True, text=True,
                           env={**os.environ, 'KERAS_BACKEND': b, 'TF_CPP_MIN_LOG_LEVEL': '3'}, cwd=Path(__file__).parents[1])
        if p.returncode and ('No module named' in p.stderr or 'BackendError' in p.stderr): missing.append(b); continue  # not installed here
        assert p.returncode == 0, p.stderr[-2000:]
        with np.load(tmp_path/f'{b}.npz') as f: got[str(f['backend'])] = {k: f[k] for k in f.files if k != 'backend'}
    assert len(got) >= 2 or os.environ.get('CI') != 'true', f"CI has every backend; missing: {missing}"
    if len(got) < 2: pytest.skip(f"one backend installed here ({list(got)}); `make install-backends` adds jax and torch")
    (first, ref), *others = got.items()
    assert set(ref) >= {'seed', 'cvae', 'digits', 'ssvae-100'}
    for b, imgs in others:
        assert set(imgs) == set(ref)
        for name in ref: np.testing.assert_allclose(imgs[name], ref[name], atol=1e-4, rtol=0, err_msg=f"{name}: {first} vs {b}")
