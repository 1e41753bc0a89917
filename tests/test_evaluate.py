"Evaluation metrics on known cases: FID of a set with itself, closed-form Gaussians, ELBO vs the model card, IWAE bounds."
import numpy as np
import pytest

from vae_mnist.evaluate import (augmentation, classifier_accuracy, evaluate_model, fid_mnist, frechet_distance,
                                iw_log_likelihood, label_faithfulness, neg_elbo)
from vae_mnist.classifier import load_classifier
from vae_mnist.export import Synthetic
from vae_mnist.generate import generate
from vae_mnist.model import load_pretrained, model_card


@pytest.fixture(scope='module')
def classifier(): return load_classifier()


@pytest.fixture(scope='module')
def mlp(): return load_pretrained('mlp')


def test_frechet_distance_known_cases():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50_000, 3))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    # N(0, I) vs N(mu, 9 I) in 3-D: |mu|^2 + 3 * (1 + 9 - 2 * 3)
    b = 3 * rng.standard_normal((50_000, 3)) + [1, 2, 0]
    assert frechet_distance(a, b) == pytest.approx(5 + 12, abs=0.4)
    assert frechet_distance(b, a) == pytest.approx(frechet_distance(a, b), rel=1e-6)


def test_fid_mnist_of_a_set_with_itself_is_zero_and_real_halves_are_close(classifier, mnist_test):
    x, _ = mnist_test
    assert fid_mnist(classifier, x[:3000], x[:3000]) == pytest.approx(0, abs=1e-3)
    halves = fid_mnist(classifier, x[:5000], x[5000:])
    noise = np.random.default_rng(0).integers(0, 256, (5000, 28, 28), dtype=np.uint8)
    assert 0 < halves < fid_mnist(classifier, x[:5000], noise) / 10


def test_label_faithfulness_on_real_data_is_the_classifier_accuracy(classifier, mnist_test):
    x, y = mnist_test
    f = label_faithfulness(classifier, Synthetic(x, y))
    assert f['accuracy'] > 0.97 and min(f['per_class']) > 0.93 and f['counts'] == np.bincount(y).tolist()
    wrong = label_faithfulness(classifier, Synthetic(x, (y + 1) % 10))
    assert wrong['accuracy'] < 0.02


def test_neg_elbo_matches_the_model_card(mlp, mnist_test):
    e = neg_elbo(mlp, mnist_test[0])
    card = model_card('mlp')['test']
    assert e['loss'] == pytest.approx(card['loss'], rel=0.01) and e['kl'] == pytest.approx(card['kl'], rel=0.01)
    assert e['loss'] == pytest.approx(e['reconstruction'] + e['kl'], abs=0.01)


def test_importance_weighted_estimate_tightens_with_k(mlp, mnist_test):
    x = mnist_test[0][:500]
    ll = [iw_log_likelihood(mlp, x, k=k) for k in (1, 5, 50)]
    assert -ll[0] == pytest.approx(neg_elbo(mlp, x)['loss'], abs=1.5)
    assert ll[0] < ll[1] < ll[2] < 0
    assert iw_log_likelihood(mlp, x, k=5, seed=1) == iw_log_likelihood(mlp, x, k=5, seed=1)


def test_importance_weighted_estimate_refuses_gaussian_models(mnist_test):
    with pytest.raises(ValueError, match='gaussian likelihood'): iw_log_likelihood(load_pretrained('seed'), mnist_test[0][:10])


def test_cvae_likelihood_needs_and_uses_labels(mnist_test):
    cvae, (x, y) = load_pretrained('cvae'), (mnist_test[0][:300], mnist_test[1][:300])
    right, wrong = iw_log_likelihood(cvae, x, y, k=5), iw_log_likelihood(cvae, x, (y + 1) % 10, k=5)
    assert right > wrong + 10  # the right label explains a digit much better


def test_classifier_accuracy_learns_from_real_digits(mnist_train, mnist_test):
    (x, y), (xt, yt) = mnist_train, mnist_test
    assert classifier_accuracy(x[:1000], y[:1000], xt[:2000], yt[:2000], steps=300) > 0.8
    shuffled = np.random.default_rng(0).permutation(y[:1000])
    assert classifier_accuracy(x[:1000], shuffled, xt[:2000], yt[:2000], steps=300) < 0.3


def test_augmentation_adds_the_synthetic_digits(mnist_train, mnist_test):
    (x, y), (xt, yt) = mnist_train, mnist_test
    syn = generate(load_pretrained('cvae'), 1000, seed=0)
    base = augmentation((x, y), None, (xt[:2000], yt[:2000]), sizes=(20,), steps=200)
    more = augmentation((x, y), syn, (xt[:2000], yt[:2000]), sizes=(20,), steps=200)
    assert set(base) == {20} and more[20] > base[20]


def test_evaluate_model_small_run(mnist_train, mnist_test, classifier):
    (x, y), (xt, yt) = mnist_train, mnist_test
    r = evaluate_model(load_pretrained('cvae'), ((x, y), (xt[:1000], yt[:1000])), k=2, n_synthetic=200, steps=50,
                       classifier=classifier)
    assert r['faithfulness']['counts'] == [20] * 10 and r['iw_nll'] > 0 and r['fid'] > 0
    assert set(r['tstr']) == {'synthetic', 'real'} and set(r['augmentation']['with_synthetic']) == {100, 1000}
    with pytest.raises(ValueError, match='needs a test set of 1200'):
        evaluate_model(load_pretrained('cvae'), ((x, y), (xt[:1000], yt[:1000])), n_synthetic=600)


def test_nearest_distances_known_cases(mnist_train):
    from vae_mnist.evaluate import nearest_distances
    x, _ = mnist_train
    ref = x[:500]
    assert np.allclose(nearest_distances(ref[100:110], ref), 0, atol=1e-2)  # members of the reference set
    q = x[600:610].astype('float32') / 255
    brute = np.sqrt(((q.reshape(10, 1, -1) - ref.reshape(1, 500, -1).astype('float32') / 255) ** 2).sum(2)).min(1)
    assert np.allclose(nearest_distances(x[600:610], ref, batch_size=4), brute, atol=1e-3)
    assert np.allclose(nearest_distances(np.array([[3., 4.]]), np.array([[0., 0.], [30., 40.]])), [5.0])


def test_data_quality_small_run(mnist_train, mnist_test, classifier):
    from vae_mnist.evaluate import data_quality
    from vae_mnist.generate import load_generator
    data = ((mnist_train[0][:500], mnist_train[1][:500]), (mnist_test[0][:1000], mnist_test[1][:1000]))
    q = data_quality(load_generator('cvae'), data, seeds=(0, 1), kind='mlp', steps=80, n_eval=400, reader=classifier)
    assert (q['sampler'], q['n'], len(q['tstr']['per_seed'])) == ('fitted', 500, 2)
    assert q['agreement']['accuracy'] > 0.95 and 0.5 < q['tstr']['mean'] <= 1 and min(q['fid'], q['fid_floor']) > 0
    assert set(q['nn']) == {'pixels', 'features'} and all(v['test'] > 0 for v in q['nn'].values())
