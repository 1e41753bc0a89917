"The reader: its recipes learn from real digits and not from shuffled labels, seeded; the shipped CNN's card is true."
import numpy as np
import pytest

from vae_mnist.classifier import (build_cnn, build_mlp, classifier_card, classifier_features, classify, load_classifier,
                                  train_classifier)


@pytest.mark.parametrize('kind', ['mlp', 'cnn'])
def test_recipe_learns_real_digits_and_not_shuffled_labels(kind, mnist_train, mnist_test):
    (x, y), (xt, yt) = mnist_train, mnist_test
    acc = lambda labels: (classify(train_classifier(x[:2000], labels, steps=300, kind=kind), xt[:2000])[0] == yt[:2000]).mean()
    assert acc(y[:2000]) > 0.88
    assert acc(np.random.default_rng(0).permutation(y[:2000])) < 0.3


def test_training_is_seeded(mnist_train, mnist_test):
    (x, y), (xt, _) = mnist_train, mnist_test
    p = [classify(train_classifier(x[:500], y[:500], steps=30, kind='cnn', seed=s), xt[:200])[1] for s in (1, 1, 2)]
    np.testing.assert_allclose(p[0], p[1], atol=1e-5)
    assert not np.allclose(p[0], p[2], atol=1e-3)


def test_networks_and_the_shipped_reader(mnist_test):
    assert build_mlp().get_layer('features').units == build_cnn().get_layer('features').units == 128
    xt, yt = mnist_test
    reader, card = load_classifier(), classifier_card()
    assert card['kind'] == 'cnn' and card['n_train'] == 22699
    assert classifier_features(reader, xt[:5]).shape == (5, 128)
    assert abs((classify(reader, xt)[0] == yt).mean() - card['test_accuracy']) < 1e-4 and card['test_accuracy'] >= 0.99
    with pytest.raises(ValueError, match='kind must be one of'): train_classifier(xt[:10], yt[:10], kind='vit')
