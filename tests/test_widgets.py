"Python-level tests of the ipywidgets explorers: set widget values as a user would and check what is displayed."
import time

import numpy as np
import pytest

pytest.importorskip('ipywidgets')
from plotly.callbacks import Points  # noqa: E402

from vae_mnist.model import load_pretrained  # noqa: E402
from vae_mnist.results import interpolate, latent_codes, nearest, sample_digits  # noqa: E402
from vae_mnist.widgets import (DigitGenerator, Interpolator, ScatterPicker, SliderExplorer, image_png, png_array,  # noqa: E402
                               tile, to_uint8)


@pytest.fixture(scope='module')
def models():
    return {n: load_pretrained(n) for n in ('seed', 'mlp', 'cvae')}


@pytest.fixture(scope='module')
def data(mnist_test):
    x, y = mnist_test
    return x[:2000], y[:2000]


def shown(explorer, image=None):
    "The uint8 image an explorer's Image widget displays."
    return png_array((image or explorer.image).value, explorer.scale)


def test_png_round_trip():
    img = np.random.default_rng(0).random((28, 28))
    for scale in (1, 3, 6): np.testing.assert_array_equal(png_array(image_png(img, scale), scale), to_uint8(img))
    assert tile(np.ones((25, 28, 28)), 10).shape == (3 * 28, 10 * 28)


def test_slider_explorer_shows_decoder_output_2d(models):
    model = models['seed']
    ex = SliderExplorer(model)
    assert len(ex.sliders) == 2 and ex.pca is None
    for zx, zy in ((0.0, 2.5), (-1.2, 0.4), (2.0, -2.0)):
        ex.sliders[0].value, ex.sliders[1].value = zx, zy
        expected = model.decode(np.array([[zx, zy]]))[0]
        np.testing.assert_array_equal(ex.digit, expected)
        np.testing.assert_array_equal(shown(ex), to_uint8(expected))
    assert hasattr(ex, '_ipython_display_') and ex.widget.children


def test_slider_explorer_principal_directions(models, data):
    model, (x, _) = models['mlp'], data
    codes = latent_codes(model, x)
    ex = SliderExplorer(model, codes)
    assert len(ex.sliders) == 8 and [s.description for s in ex.sliders[:2]] == ['PC 1', 'PC 2']
    np.testing.assert_allclose([s.max for s in ex.sliders], 3 * ex.pca.std)
    before = shown(ex).copy()
    ex.sliders[1].value = -2 * ex.pca.std[1]
    z = ex.pca.mean - 2 * ex.pca.std[1] * ex.pca.components[1]
    np.testing.assert_array_equal(shown(ex), to_uint8(model.decode(z[None])[0]))
    assert not np.array_equal(shown(ex), before)


def test_slider_explorer_conditional_label(models, data):
    model, (x, y) = models['cvae'], data
    ex = SliderExplorer(model, latent_codes(model, x, y))
    ex.label.value = 7
    np.testing.assert_array_equal(shown(ex), to_uint8(model.decode(ex.z[None], 7)[0]))


@pytest.mark.parametrize('name', ['seed', 'mlp'])
def test_slider_update_under_100ms(models, data, name):
    model, (x, _) = models[name], data
    ex = SliderExplorer(model, latent_codes(model, x))
    s = ex.sliders[0]
    values = np.linspace(s.min, s.max, 30)
    s.value = float(values[-1])
    t0 = time.perf_counter()
    for v in values: s.value = float(v)
    assert (time.perf_counter() - t0) / len(values) < 0.1


def test_scatter_picker_click_on_a_digit_and_on_empty_space(models, data):
    model, (x, y) = models['seed'], data
    picker = ScatterPicker(model, x, y, k=5)
    trace = next(t for t in picker.fig.data if t.name == str(y[42]))
    i = int(np.flatnonzero(np.asarray(trace.customdata) == 42)[0])
    picker._on_click(trace, Points([i], [trace.x[i]], [trace.y[i]], trace.name, 1), None)
    np.testing.assert_array_equal(shown(picker), to_uint8(model.decode(picker.codes[42:43])[0]))
    assert picker.neighbours[0] == 42 and 'test digit 42' in picker.info.value
    space = picker.fig.data[0]
    assert space.type == 'heatmap'
    picker._on_click(space, Points([[10, 20]], [-0.8], [1.1], space.name, 0), None)
    np.testing.assert_array_equal(shown(picker), to_uint8(model.decode(np.array([[-0.8, 1.1]]))[0]))
    np.testing.assert_array_equal(picker.neighbours, nearest(picker.points, [-0.8, 1.1], 5))
    np.testing.assert_array_equal(png_array(picker.near_image.value, 2), tile(x[picker.neighbours], 5))
    assert picker.fig.data[-1].x == (-0.8,) and picker.fig.data[-1].y == (1.1,)
    picker._on_click(space, Points([], [], [], space.name, 0), None)  # an event without a point changes nothing
    assert picker.fig.data[-1].x == (-0.8,)


def test_scatter_picker_pca_plane_and_conditional(models, data):
    (x, y) = data
    picker = ScatterPicker(models['mlp'], x, y)
    picker.pick(0.5, -1.0)
    z = picker.pca.mean + 0.5 * picker.pca.components[0] - 1.0 * picker.pca.components[1]
    np.testing.assert_allclose(picker.digit, models['mlp'].decode(z[None])[0], atol=1e-6)
    cp = ScatterPicker(models['cvae'], x, y)
    cp.pick(*cp.points[5], index=5)
    assert cp.label.value == y[5]
    np.testing.assert_array_equal(cp.digit, models['cvae'].decode(cp.codes[5:6], y[5])[0])


def test_interpolator(models, data):
    model, (x, y) = models['mlp'], data
    walk = Interpolator(model, x, y, steps=6)
    walk.index[0].value, walk.index[1].value = 10, 20
    za, zb = walk.codes[10], walk.codes[20]
    for method in ('linear', 'spherical'):
        walk.method.value = method
        walk.t.value = 0.35
        expected = model.decode(interpolate(za, zb, 0.35, method))[0]
        np.testing.assert_allclose(walk.digit, expected, atol=1e-6)
        np.testing.assert_array_equal(shown(walk), to_uint8(walk.digit))
        np.testing.assert_allclose(walk.path, model.decode(interpolate(za, zb, np.linspace(0, 1, 6), method)), atol=1e-6)
    walk.klass[1].value = 3
    assert walk.index[1].value == int(np.flatnonzero(y == 3)[0])


def test_digit_generator_and_save(models, tmp_path):
    gen = DigitGenerator(models['cvae'], n=12, temperature=0.7, path=tmp_path / 'out' / 'd.npz')
    gen.label.value = 2; gen.count.value = 15
    x, y = sample_digits(models['cvae'], 15, 0.7, 2, seed=0)
    np.testing.assert_array_equal(gen.x, x); np.testing.assert_array_equal(gen.y, y)
    np.testing.assert_array_equal(png_array(gen.image.value, gen.scale), tile(to_uint8(x), 10))
    gen.new_button.click()
    assert gen.seed.value == 1 and not np.array_equal(gen.x, x)
    gen.save_button.click()
    assert 'wrote 15 digits' in gen.status.value
    with np.load(tmp_path / 'out' / 'd.npz') as f:
        assert f['x'].dtype == np.uint8 and f['x'].shape == (15, 28, 28)
        np.testing.assert_array_equal(f['x'], to_uint8(gen.x)); np.testing.assert_array_equal(f['y'], np.full(15, 2))
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['d.npz']
    assert DigitGenerator(models['seed'], n=3).y.tolist() == [-1, -1, -1]


def test_only_widgets_imports_ipywidgets():
    import subprocess, sys
    code = ("import sys, vae_mnist.results, vae_mnist.model, vae_mnist.data; "
            "assert 'ipywidgets' not in sys.modules and 'plotly' not in sys.modules")
    subprocess.run([sys.executable, '-c', code], check=True)
