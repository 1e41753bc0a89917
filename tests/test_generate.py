"Generation: shapes, dtypes, label balance, seeded reproducibility, a streamed run (the formats: test_export.py)."
import tracemalloc

import numpy as np
import pytest

from vae_mnist.classifier import classifier_card, classify, load_classifier
from vae_mnist.generate import generate, iter_generate, write_generated
from vae_mnist.model import load_pretrained


@pytest.fixture(scope='module')
def cvae(): return load_pretrained('cvae')


@pytest.fixture(scope='module')
def seed_vae(): return load_pretrained('seed')


@pytest.fixture(scope='module')
def classifier(): return load_classifier()


@pytest.fixture(scope='module')
def sample(cvae, classifier): return generate(cvae, 700, seed=0, classifier=classifier)


def test_shipped_reader_is_accurate_on_real_test_data(classifier, mnist_test):
    x, y = mnist_test
    acc = (classify(classifier, x)[0] == y).mean()
    assert acc >= 0.99
    assert abs(acc - classifier_card()['test_accuracy']) < 1e-4


@pytest.mark.parametrize('n', [1, 10, 25, 1000, 1234])
def test_cvae_shapes_dtypes_and_balanced_labels(cvae, n):
    s = generate(cvae, n, seed=0, batch_size=500)
    assert s.x.shape == (n, 28, 28) and s.x.dtype == np.uint8
    assert s.y.shape == (n,) and s.y.dtype == np.uint8
    counts = np.bincount(s.y, minlength=10)
    assert counts.max() - counts.min() <= 1 and counts.sum() == n
    assert s.confidence is None
    assert s.x.max() > 200 and s.x.min() == 0  # real digit images, not blank


def test_seeded_generation_is_reproducible(cvae, seed_vae, classifier):
    a, b, c = (generate(cvae, 300, seed=s) for s in (5, 5, 6))
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    u, v = (generate(seed_vae, 300, seed=1, classifier=classifier) for _ in range(2))
    assert np.array_equal(u.x, v.x) and np.array_equal(u.y, v.y) and np.array_equal(u.confidence, v.confidence)


def test_unconditional_labels_come_from_the_classifier(seed_vae, classifier):
    s = generate(seed_vae, 500, seed=0, classifier=classifier)
    y, conf = classify(classifier, s.x)
    assert np.array_equal(s.y, y) and np.allclose(s.confidence, conf, atol=1e-6)
    sure = generate(seed_vae, 500, seed=0, classifier=classifier, threshold=0.95)
    assert len(sure) == 500 and sure.confidence.min() >= 0.95


def test_cvae_threshold_redraws_with_the_same_labels(cvae, classifier):
    s = generate(cvae, 300, labels=np.arange(300) % 10, seed=0, classifier=classifier, threshold=0.9)
    assert np.array_equal(s.y, np.arange(300) % 10) and s.confidence.min() >= 0.9
    assert np.allclose(classify(classifier, s.x)[1][s.confidence > 0.5], s.confidence[s.confidence > 0.5], atol=1e-5)
    shipped = generate(cvae, 100, seed=0, threshold=0.9)  # no classifier given: the shipped one scores the digits
    assert shipped.confidence is not None and shipped.confidence.min() >= 0.9


def test_temperature_changes_spread(cvae):
    cold, hot = (generate(cvae, 500, labels=3, seed=0, temperature=t).x.astype(float) for t in (0.2, 2.0))
    assert cold.std(axis=0).mean() < hot.std(axis=0).mean()


@pytest.mark.parametrize('kwargs, msg', [
    (dict(n=0), 'n must be a positive whole number'), (dict(n=-5), 'n must be a positive whole number'),
    (dict(n=2.5), 'n must be a positive whole number'), (dict(n=10, temperature=-1), 'temperature must be a number in (0, 10]'),
    (dict(n=10, labels=11), 'labels must be digits 0-9'), (dict(n=10, labels=[1, 2, 3]), 'got 3 labels for n=10'),
    (dict(n=10, threshold=1.5), 'threshold must be in [0, 1)')])
def test_bad_arguments(cvae, kwargs, msg):
    with pytest.raises(ValueError, match=msg.replace('[', r'\[').replace('(', r'\(').replace(')', r'\)')):
        generate(cvae, **kwargs)


def test_unconditional_model_cannot_take_labels(seed_vae, classifier):
    with pytest.raises(ValueError, match='is unconditional'): generate(seed_vae, 10, labels=3, classifier=classifier)


def _peak_traced(f) -> int:
    "Peak bytes traced by tracemalloc (numpy registers its buffers there) while `f()` runs."
    tracemalloc.start()
    try: f()
    finally: peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
    return peak


def test_streamed_run_matches_generate_and_stays_bounded(seed_vae, classifier, tmp_path):
    n, b = 60_000, 2_000
    run = lambda k, name, **kw: write_generated(seed_vae, k, tmp_path/name, seed=3, batch_size=b, classifier=classifier, **kw)
    run(b, 'warm.npz')  # first calls trace TensorFlow functions
    small = _peak_traced(lambda: run(3 * b, 'small.npz'))
    info = {}
    big = _peak_traced(lambda: info.update(run(n, 's.npz', preview=tmp_path/'p.png')))
    # 10x the digits, same peak: memory follows the batch, not n (the set itself is 47 MB as uint8)
    assert big < 1.1 * small + 1_000_000 and big < n * 784 / 2, (small, big)
    ref = generate(seed_vae, n, seed=3, batch_size=b, classifier=classifier)
    with np.load(tmp_path/'s.npz') as f:
        assert np.array_equal(f['x'], ref.x) and np.array_equal(f['y'], ref.y)
        assert np.array_equal(f['confidence'], ref.confidence)
    assert info['counts'] == np.bincount(ref.y, minlength=10).tolist() and info['n'] == n
    assert (tmp_path/'p.png').stat().st_size > 1000


def test_iter_generate_yields_batches(cvae):
    sizes = [len(b) for b in iter_generate(cvae, 2500, seed=0, batch_size=1000)]
    assert sizes == [1000, 1000, 500]


def test_write_generated_checks_targets_before_generating(tmp_path):
    (tmp_path/'x.npz').write_bytes(b'keep me')
    with pytest.raises(FileExistsError): write_generated('cvae', 10, tmp_path/'y.npz', preview=tmp_path/'x.npz')
    assert (tmp_path/'x.npz').read_bytes() == b'keep me' and not (tmp_path/'y.npz').exists()
    with pytest.raises(ValueError, match="no pretrained model 'nope'"): write_generated('nope', 10, tmp_path/'z.npz')
