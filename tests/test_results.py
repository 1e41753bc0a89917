"Tests of vae_mnist.results on the pretrained models and the real MNIST test set: PCA, the batched manifold, plots."
import numpy as np
import pytest

from vae_mnist.core import flatten, normalize
from vae_mnist.model import load_pretrained
from vae_mnist.files import save_figure
from vae_mnist.results import (PCA, class_means, decode_grid, decode_point, digit_grid, fit_pca, interpolate, latent_2d,
                               latent_codes, latent_grid, nearest, plot_class_means, plot_digit, plot_grid, plot_history, plot_latent,
                               plot_reconstructions, plot_samples, reconstruct, sample_digits)


@pytest.fixture(scope='module')
def models():
    return {n: load_pretrained(n) for n in ('seed', 'mlp', 'cvae')}


@pytest.fixture(scope='module')
def codes(models, mnist_test):
    x, y = mnist_test
    return {'seed': latent_codes(models['seed'], x), 'mlp': latent_codes(models['mlp'], x), 'cvae': latent_codes(models['cvae'], x, y)}


def test_latent_codes_are_encoder_means(models, mnist_test):
    x, y = mnist_test
    np.testing.assert_allclose(latent_codes(models['mlp'], x[:20]), models['mlp'].encode(normalize(x[:20]))[0], atol=1e-6)
    np.testing.assert_allclose(latent_codes(models['mlp'], normalize(x[:20])), latent_codes(models['mlp'], x[:20]), atol=1e-6)
    with pytest.raises(ValueError, match='labels'): latent_codes(models['cvae'], x[:5])


def test_pca_matches_covariance_eigendecomposition(codes):
    z = codes['mlp'].astype('float64')
    pca = fit_pca(z, k=8)
    vals, vecs = np.linalg.eigh(np.cov(z.T))
    np.testing.assert_allclose(pca.std ** 2, vals[::-1], rtol=1e-6)
    # each principal direction equals an eigenvector up to sign, and the sign rule makes the largest entry positive
    for comp, vec in zip(pca.components, vecs.T[::-1]): np.testing.assert_allclose(abs(comp @ vec), 1.0, atol=1e-6)
    assert (pca.components[np.arange(8), np.abs(pca.components).argmax(1)] > 0).all()
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(8), atol=1e-9)
    p = pca.transform(z)
    np.testing.assert_allclose(p.mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(np.cov(p.T), np.diag(pca.std ** 2), atol=1e-6)
    np.testing.assert_allclose(pca.inverse_transform(p), z, atol=1e-9)


def test_pca_on_known_data():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5000, 3)) * [3.0, 1.0, 0.1] @ np.linalg.qr(rng.standard_normal((3, 3)))[0].T + [1, 2, 3]
    pca = fit_pca(z, k=2)
    assert isinstance(pca, PCA) and pca.components.shape == (2, 3)
    np.testing.assert_allclose(pca.std, [3.0, 1.0], rtol=0.05)
    np.testing.assert_allclose(pca.mean, [1, 2, 3], atol=0.1)


def test_latent_2d(codes):
    points, pca = latent_2d(codes['seed'])
    assert pca is None and np.array_equal(points, codes['seed'].astype('float64'))
    points, pca = latent_2d(codes['mlp'])
    assert points.shape == (10_000, 2)
    np.testing.assert_allclose(points, fit_pca(codes['mlp'], 8).transform(codes['mlp'])[:, :2], atol=1e-6)


def test_decode_grid_equals_per_point_decodes(models):
    n, span = 5, 1.5
    for name, dims, y in (('seed', (0, 1), None), ('seed', (1, 0), None), ('mlp', (2, 5), None), ('cvae', (0, 3), 8)):
        model = models[name]
        grid = decode_grid(model, n=n, span=span, dims=dims, y=y)
        assert grid.shape == (n * 28, n * 28)
        for i, zy in enumerate(np.linspace(span, -span, n)):
            for j, zx in enumerate(np.linspace(-span, span, n)):
                z = np.zeros(model.config.latent_dim); z[dims[0]], z[dims[1]] = zx, zy
                np.testing.assert_allclose(grid[i*28:(i+1)*28, j*28:(j+1)*28], decode_point(model, z, y), atol=1e-5)


def test_decode_grid_makes_one_decode_call(models, monkeypatch):
    model, calls = models['seed'], []
    real = model.decode
    monkeypatch.setattr(model, 'decode', lambda z, y=None: calls.append(len(z)) or real(z, y))
    assert decode_grid(model, n=30, span=1.5).shape == (840, 840)
    assert calls == [900]


def test_latent_grid_center_and_order():
    z = latent_grid(3, 2.0, dims=(1, 2), latent_dim=4, center=[5, 0, 0, 7])
    np.testing.assert_array_equal(z[:, 0], 5); np.testing.assert_array_equal(z[:, 3], 7)
    np.testing.assert_array_equal(z[:3, 1], [-2, 0, 2]); np.testing.assert_array_equal(z[::3, 2], [2, 0, -2])


def test_plot_latent_hover_carries_label_and_index(codes, mnist_test):
    _, y = mnist_test
    fig = plot_latent(codes['seed'], y)
    assert [t.name for t in fig.data] == [str(k) for k in range(10)]
    for k, t in enumerate(fig.data):
        assert (y[np.asarray(t.customdata)] == k).all()
        np.testing.assert_allclose(np.c_[t.x, t.y], codes['seed'][np.asarray(t.customdata)])
        assert f'label {k}' in t.hovertemplate and '%{customdata}' in t.hovertemplate
    assert sorted(np.concatenate([t.customdata for t in fig.data])) == list(range(10_000))


def test_matplotlib_plots_return_figures(models, codes, mnist_test):
    import matplotlib.figure
    x, y = mnist_test
    means = class_means(codes['seed'], y)
    figs = [plot_digit(decode_point(models['seed'], [0, 2.5])), plot_grid(decode_grid(models['seed'], n=4)),
            plot_reconstructions(x, reconstruct(models['seed'], x[:12])),
            plot_class_means(codes['seed'], y, means, models['seed'].decode(means)),
            plot_history([{'epoch': 1, 'loss': 50.0, 'val_loss': 48.0}, {'epoch': 2, 'loss': 45.0, 'val_loss': 44.0}])]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
    np.testing.assert_array_equal(figs[-1].axes[0].lines[1].get_ydata(), [48.0, 44.0])
    with pytest.raises(ValueError, match='empty'): plot_history([])


def test_class_means_scatter_kw(codes, mnist_test):
    "`scatter_kw` goes over the cloud's defaults (faint points); the notebook draws it solid, for a small image."
    _, y = mnist_test
    means = class_means(codes['seed'], y)
    cloud = lambda **kw: plot_class_means(codes['seed'], y, means, **kw).axes[0].collections[0]
    assert cloud().get_alpha() == 0.15 and cloud().get_sizes()[0] == 2
    solid = cloud(scatter_kw=dict(s=1.5, alpha=1, antialiased=False, linewidths=0))
    assert solid.get_alpha() == 1 and solid.get_sizes()[0] == 1.5 and not solid.get_antialiased()[0]


def test_reconstructions_beat_class_mean(models, mnist_test):
    x, y = mnist_test
    r = reconstruct(models['mlp'], x[:300])
    err = ((r - normalize(x[:300])) ** 2).mean()
    baseline = ((normalize(x[:300]) - normalize(x[:300]).mean(0)) ** 2).mean()
    assert err < 0.5 * baseline


def test_class_means(codes, mnist_test):
    _, y = mnist_test
    m = class_means(codes['mlp'], y)
    for k in range(10): np.testing.assert_allclose(m[k], codes['mlp'][y == k].astype('float64').mean(0), atol=1e-9)


def test_interpolate():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(8), rng.standard_normal(8)
    t = np.linspace(0, 1, 7)
    for method in ('linear', 'spherical'):
        path = interpolate(a, b, t, method)
        np.testing.assert_allclose(path[0], a, atol=1e-12); np.testing.assert_allclose(path[-1], b, atol=1e-12)
    # slerp between two codes of equal norm stays on the sphere; the straight line cuts inside it
    b1 = b / np.linalg.norm(b) * np.linalg.norm(a)
    np.testing.assert_allclose(np.linalg.norm(interpolate(a, b1, t, 'spherical'), axis=1), np.linalg.norm(a))
    assert np.linalg.norm(interpolate(a, b1, 0.5)[0]) < np.linalg.norm(a)
    np.testing.assert_allclose(interpolate(a, 2 * a, 0.5, 'spherical')[0], 1.5 * a)  # parallel codes: falls back to linear


def test_nearest_matches_brute_force(codes):
    pts = codes['seed']
    for q in ([0, 0], [1.3, -0.7], [5, 5]):
        d = ((pts - q) ** 2).sum(1)
        np.testing.assert_array_equal(nearest(pts, q, 6), np.argsort(d, kind='stable')[:6])


def test_sample_digits(models):
    x, y = sample_digits(models['cvae'], 12, temperature=0.5, seed=4)
    assert x.shape == (12, 28, 28) and y.shape == (12,) and set(y) <= set(range(10))
    rng = np.random.default_rng(4)
    z = rng.standard_normal((12, 8)) * 0.5
    np.testing.assert_array_equal(y, rng.integers(0, 10, 12))
    np.testing.assert_allclose(x, models['cvae'].decode(z, y), atol=1e-6)
    x2, y2 = sample_digits(models['seed'], 5, seed=2)
    assert (y2 == -1).all() and x2.min() >= 0 and x2.max() <= 1


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


def test_digit_grid_rows_per_class(mnist_test):
    x, y = mnist_test
    g = digit_grid(x[:500], y[:500], per_class=5)
    assert g.shape == (10 * 30 + 2, 5 * 30 + 2) and g.dtype == np.uint8
    for k in range(10): np.testing.assert_array_equal(g[2 + 30 * k:30 + 30 * k, 2:30], 255 - x[:500][y[:500] == k][0])
    assert digit_grid(x[:7], per_class=3).shape == (3 * 30 + 2, 3 * 30 + 2)  # no labels: rows of 3
