"FixMatch's strong views and pseudo-label term (nbs/10a_consistency.ipynb), on whichever backend runs."
import numpy as np
from keras import ops

from vae_mnist.consistency import StrongView, pseudo_label_loss


def test_strong_views_are_new_draws_in_range_and_seeded(mnist_train):
    x = mnist_train[0][:64].reshape(-1, 28, 28, 1).astype('float32') / 255
    a, b = (ops.convert_to_numpy(StrongView(seed=3)(x)) for _ in range(2))
    np.testing.assert_allclose(a, b, atol=1e-6)  # the same seed draws the same views
    view = StrongView(seed=3)
    first, second = ops.convert_to_numpy(view(x)), ops.convert_to_numpy(view(x))
    assert not np.allclose(first, second) and first.shape == x.shape
    assert first.min() >= 0 and first.max() <= 1 + 1e-5
    assert np.abs(first - x).reshape(64, -1).sum(1).min() > 1  # every digit is changed
    np.testing.assert_array_equal(ops.convert_to_numpy(view(x, training=False)), x)


def test_cutout_blanks_one_square_of_the_side_asked():
    blank = ops.convert_to_numpy(StrongView(rotation=0, zoom=0, shift=0, cutout=6, seed=0)(np.ones((32, 28, 28, 1), 'float32')))
    zeros = (blank[..., 0] == 0)
    for z in zeros:
        rows, cols = np.flatnonzero(z.any(1)), np.flatnonzero(z.any(0))
        assert z.sum() == len(rows) * len(cols) and len(rows) <= 7 and len(cols) <= 7  # a rectangle: the square, clipped at edges
    assert (zeros.sum((1, 2)) == 49).mean() > 0.3  # most squares lie wholly inside
    none = ops.convert_to_numpy(StrongView(rotation=0, zoom=0, shift=0, cutout=0)(np.ones((4, 28, 28, 1), 'float32')))
    np.testing.assert_allclose(none, 1, atol=1e-6)


def test_pseudo_label_term_counts_only_sure_digits_and_passes_no_gradient_to_the_weak_view():
    weak = np.log(np.array([[0.96, 0.04], [0.5, 0.5], [0.01, 0.99]]))
    strong = np.log(np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]))
    loss, share = map(ops.convert_to_numpy, pseudo_label_loss(weak, strong, 0.95))
    np.testing.assert_allclose(loss, (-np.log(0.5) - np.log(0.8)) / 3, rtol=1e-5)
    np.testing.assert_allclose(share, 2 / 3, rtol=1e-6)
    assert float(ops.convert_to_numpy(pseudo_label_loss(weak, strong, 1.0)[0])) == 0  # nothing is that sure
