"Label (nbs/14_label.ipynb): a user's own digits, labelled by a semi-supervised model's classifier, written with a card that says so."
import json

import numpy as np
import pytest

from vae_mnist.data import read_csv
from vae_mnist.export import save, Synthetic
from vae_mnist.generate import load_generator
from vae_mnist.label import iter_labels, write_labelled


@pytest.fixture(scope='module')
def ssvae(): return load_generator('ssvae-100')


def test_labels_are_the_classifiers_and_batches_cover_all(ssvae, mnist_test):
    x, y = mnist_test
    parts = list(iter_labels(ssvae, x[:250], batch_size=100))
    assert [len(p) for p in parts] == [100, 100, 50]
    got = np.concatenate([p.y for p in parts])
    np.testing.assert_array_equal(got, ssvae.predict_proba(x[:250]).argmax(1))
    assert np.mean(got == y[:250]) > 0.9 and all((p.confidence > 0).all() and (p.confidence <= 1).all() for p in parts)


def test_a_folder_of_pngs_is_labelled_and_carded(ssvae, mnist_test, tmp_path):
    x, y = mnist_test
    src = save(tmp_path/'mine', Synthetic(x[:60], y[:60]), format='png-folders')  # a user's PNGs
    info = write_labelled(ssvae, src, tmp_path/'out.csv')
    card = json.loads((tmp_path/'out.csv.json').read_text())
    assert info['n'] == card['n'] == 60 and card['labels'].startswith('predicted') and card['source'] == str(src)
    assert sorted(read_csv(tmp_path/'out.csv')[0].reshape(60, -1).sum(1)) == sorted(x[:60].reshape(60, -1).sum(1))
    assert info['model'] == 'ssvae-100'  # the bundled model's name


def test_a_model_without_a_classifier_is_refused(tmp_path, mnist_test):
    with pytest.raises(ValueError, match='cvae: has no classifier of its own'): write_labelled('cvae', mnist_test[0][:5], tmp_path/'c.npz')
    assert list(tmp_path.iterdir()) == []
