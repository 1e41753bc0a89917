"Sampling from where the data is: the EM fit on a known mixture, fitted samples landing where the codes are, files, and the sampler option."
import json

import numpy as np
import pytest

from vae_mnist.generate import generate, load_generator, resolve_sampler, write_generated
from vae_mnist.model import load_pretrained
from vae_mnist.sampler import (GaussianMixture, LatentDensity, fit_gmm, fit_latent_density, load_density,
                               pretrained_density, save_density)


@pytest.fixture(scope='module')
def cvae(): return load_generator('cvae')


def test_em_recovers_a_known_mixture():
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal([0, 0, 0], 0.5, (2000, 3)), rng.normal([5, -5, 5], 1.0, (6000, 3))])
    g = fit_gmm(z, k=2, seed=0)
    o = np.argsort(g.weights)
    np.testing.assert_allclose(g.weights[o], [0.25, 0.75], atol=0.01)
    np.testing.assert_allclose(g.means[o], [[0, 0, 0], [5, -5, 5]], atol=0.06)
    np.testing.assert_allclose(np.einsum('kij,klj->kil', g.chols, g.chols)[o], [np.eye(3) * 0.25, np.eye(3)], atol=0.06)


def test_temperature_scales_the_spread_around_each_component():
    g = GaussianMixture(np.array([1.0]), np.array([[2.0, -1.0]]), np.array([np.diag([1.0, 3.0])]))
    for t in (0.5, 2.0):
        s = g.sample(np.random.default_rng(0), 50_000, temperature=t)
        np.testing.assert_allclose(s.mean(0), [2, -1], atol=0.05)
        np.testing.assert_allclose(s.std(0), [t * 1.0, t * 3.0], rtol=0.02)


def test_fitted_samples_land_where_the_codes_of_unseen_digits_are(cvae, mnist_train, mnist_test):
    (x, y), (xt, yt) = mnist_train, mnist_test
    d = fit_latent_density(cvae, x[:8000], y[:8000])
    z_test = cvae.encode(xt[:3000], yt[:3000])[0]
    rng = np.random.default_rng(0)
    z_fit, z_prior = d.sample(rng, y=yt[:3000]), rng.standard_normal(z_test.shape)
    lp = {k: d.log_prob(v, yt[:3000]).mean() for k, v in (('test', z_test), ('fit', z_fit), ('prior', z_prior))}
    assert abs(lp['fit'] - lp['test']) < 1.0 and lp['prior'] < lp['test'] - 1.0, lp
    # per class, many fitted samples have the mean and spread of the codes they were fitted to
    z_train, labels = cvae.encode(x[:8000], y[:8000])[0], np.repeat(np.arange(10), 5000)
    z_many = d.sample(rng, y=labels)
    for k in range(10):
        a, b = z_many[labels == k], z_train[y[:8000] == k]
        assert np.abs(a.mean(0) - b.mean(0)).max() < 0.08 * b.std(0).max(), k
        assert np.all((a.std(0) > 0.9 * b.std(0)) & (a.std(0) < 1.1 * b.std(0))), k


def test_density_file_round_trip_and_errors(tmp_path, cvae):
    d = pretrained_density('cvae')
    assert d.conditional and d.latent_dim == cvae.config.latent_dim and len(d.mixtures) == 10
    z = d.sample(np.random.default_rng(0), y=np.arange(10))
    np.testing.assert_allclose(load_density(save_density(d, tmp_path/'d.npz')).log_prob(z, np.arange(10)), d.log_prob(z, np.arange(10)))
    (tmp_path/'bad.npz').write_bytes(b'PK not really')
    with pytest.raises(ValueError, match='bad.npz: not a latent density'): load_density(tmp_path/'bad.npz')
    assert pretrained_density('seed') is None


def test_sampler_option(cvae):
    assert resolve_sampler(cvae)[0] == 'fitted'  # a bundled model with a density samples from it by default
    assert resolve_sampler(cvae, 'prior') == ('prior', None)
    bare = load_pretrained('cvae')  # no density attached
    assert resolve_sampler(bare)[0] == 'prior'
    with pytest.raises(ValueError, match='carries no fitted latent density'): resolve_sampler(bare, 'fitted')
    with pytest.raises(ValueError, match='sampler must be one of'): resolve_sampler(cvae, 'posterior')
    other = LatentDensity([GaussianMixture(np.ones(1), np.zeros((1, 3)), np.eye(3)[None])] * 10, True)
    with pytest.raises(ValueError, match='does not belong to model'): resolve_sampler(cvae, other)
    a, b = generate(cvae, 200, seed=4), generate(cvae, 200, seed=4, sampler='fitted')
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, generate(cvae, 200, seed=4, sampler='prior').x)
    np.testing.assert_array_equal(generate(bare, 200, seed=4, sampler=pretrained_density('cvae')).x, a.x)


def test_dataset_card_beside_every_export(tmp_path, cvae):
    info = write_generated(cvae, 300, tmp_path/'d.npz', seed=2, temperature=0.8)
    card = json.loads((tmp_path/'d.npz.json').read_text())
    assert info['card'] == str(tmp_path/'d.npz.json')
    assert card['generator'] == 'cvae' and card['generator_card']['preset'] == 'cvae' and card['sampler'] == 'fitted'
    assert (card['temperature'], card['seed'], card['n'], sum(card['counts'])) == (0.8, 2, 300, 300)
    assert card['counts'] == [30] * 10 and card['vae_mnist'] and card['created']
    write_generated(cvae, 200, tmp_path/'idx', format='idx', n_test=50, sampler='prior')
    inside = json.loads((tmp_path/'idx'/'dataset.json').read_text())
    assert inside['sampler'] == 'prior' and inside['n'] == 200
    write_generated('seed', 100, tmp_path/'s.csv.gz', seed=0)
    s = json.loads((tmp_path/'s.csv.gz.json').read_text())
    assert s['generator'] == 'seed' and 'reader' in s['labelled_by'] and s['mean_confidence'] > 0.5
    bare = load_pretrained('cvae')
    write_generated(bare, 10, tmp_path/'b.npz')
    assert json.loads((tmp_path/'b.npz.json').read_text())['generator_card']['note'] == 'not a bundled model'
    write_generated(cvae, 10, tmp_path/'nocard.npz', card=False)
    assert not (tmp_path/'nocard.npz.json').exists()


def test_an_existing_card_is_refused_without_force_and_nothing_is_written(tmp_path, cvae):
    (tmp_path/'d.npz.json').write_text('mine')
    with pytest.raises(FileExistsError, match='d.npz.json: already exists'): write_generated(cvae, 10, tmp_path/'d.npz')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['d.npz.json'] and (tmp_path/'d.npz.json').read_text() == 'mine'
    write_generated(cvae, 10, tmp_path/'d.npz', force=True)
    assert json.loads((tmp_path/'d.npz.json').read_text())['n'] == 10
