"A user's own partly labelled digits (nbs/11b_own_labels.ipynb): read, checked, trained on, and named by every card."
import json

import numpy as np
import pytest
from PIL import Image

from vae_mnist.core import DataError
from vae_mnist.own_labels import check_partly_labelled, holds_own_labels, read_partly_labelled, train_own
from vae_mnist.semisupervised import SSVAEConfig, label_split
from test_cli import assert_one_line_error, cli


@pytest.fixture
def mine(mnist_train, tmp_path):
    "1,500 MNIST digits, 5 of each class labelled and the rest -1, as an npz."
    x, y = mnist_train[0][:1500], mnist_train[1][:1500].astype('int64')
    keep, own = label_split(y, 50), np.full(1500, -1)
    own[keep] = y[keep]
    np.savez(tmp_path/'mine.npz', x=x, y=own)
    return tmp_path/'mine.npz', x, own


@pytest.mark.parametrize('change, problem', [
    (lambda x, y: dict(x=x, y=y[:-1]), 'x holds 1,500 images but y 1,499 labels'),
    (lambda x, y: dict(x=x[:, :27], y=y), 'expected images of 28x28 pixels'),
    (lambda x, y: dict(x=x, y=np.where(y == 4, 10, y)), 'labels must be -1 (no label) or 0-9'),
    (lambda x, y: dict(x=x, y=np.where(y == 4, -2, y)), 'labels must be -1 (no label) or 0-9'),
    (lambda x, y: dict(x=x, y=np.where(y == 7, -1, y)), 'no labelled digit of class 7'),
    (lambda x, y: dict(x=x[:5], y=np.arange(5)), 'only 5 labelled digits'),
    (lambda x, y: dict(x=x, y=y + 0.5), 'whole numbers'),
    (lambda x, y: dict(x=x), 'holds no y'),
])
def test_every_mistake_is_one_line_and_writes_nothing(mine, tmp_path, change, problem):
    path, x, y = mine
    np.savez(tmp_path/'bad.npz', **change(x, y))
    with pytest.raises(DataError, match=r'^' + str(tmp_path/'bad.npz')) as e:
        read_partly_labelled(tmp_path/'bad.npz')
    assert problem in str(e.value) and len(str(e.value).splitlines()) == 1
    with pytest.raises(DataError, match=problem.replace('(', r'\(').replace(')', r'\)')):
        train_own(tmp_path/'bad.npz', tmp_path/'run', verbose=0)
    assert not (tmp_path/'run').exists()


def test_the_command_says_what_is_wrong_in_one_line_and_writes_nothing(mine, tmp_path):
    path, x, y = mine
    for name, arrays, problem in (('labels.npz', dict(x=x, y=np.where(y == 4, 10, y)), 'labels must be -1 (no label) or 0-9'),
                                  ('class.npz', dict(x=x, y=np.where(y == 7, -1, y)), 'no labelled digit of class 7')):
        np.savez(tmp_path/name, **arrays)
        assert_one_line_error(cli('train', '--preset', 'ssvae', '--data', tmp_path/name, '--out', tmp_path/'run'), f"{tmp_path/name}: {problem}")
        assert not (tmp_path/'run').exists()


def test_the_folder_form_reads_what_the_npz_holds(mine, tmp_path):
    path, x, y = mine
    chosen = sorted(set(range(200)) | set(np.flatnonzero(y >= 0)))  # 200 digits and every labelled one
    for i in chosen:
        d = tmp_path/'dig'/('unlabelled' if y[i] < 0 else str(y[i])); d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(x[i]).save(d/f"{i:04d}.png")
    fx, fy = read_partly_labelled(tmp_path/'dig')
    assert sorted(zip(map(bytes, fx), fy.tolist())) == sorted((bytes(x[i]), int(y[i])) for i in chosen)  # each digit with its label
    assert holds_own_labels(tmp_path/'dig') and holds_own_labels(path)
    assert not holds_own_labels(tmp_path/'missing.npz')
    np.savez(tmp_path/'mnist.npz', x_train=x, y_train=y, x_test=x, y_test=y)
    assert not holds_own_labels(tmp_path/'mnist.npz')  # an MNIST npz stays MNIST


def test_train_own_uses_every_label_given_and_its_cards_name_the_data(mine, mnist_test, tmp_path):
    from vae_mnist.label import write_labelled
    from vae_mnist.generate import write_generated
    from vae_mnist.model import load_pretrained
    path, x, y = mine
    config = SSVAEConfig(steps=20, steps_per_epoch=10, hidden=32)
    model, card = train_own(path, tmp_path/'run', config, verbose=0, m1=load_pretrained('mlp'), test=mnist_test)
    assert card['labelled_indices'] == np.flatnonzero(y >= 0).tolist() and card['n_labels'] == 50 == model.config.n_labels
    assert card['labels_per_class'] == [5] * 10 and 'mine.npz' in card['data'] and '1,500' in card['data']
    assert 0 <= card['test']['accuracy'] <= 1 and json.loads((tmp_path/'run'/'model.json').read_text()) == card
    again, _ = train_own(path, tmp_path/'run', config, verbose=0, m1=load_pretrained('mlp'))  # resumes: nothing to train
    np.testing.assert_allclose(again.predict_proba(x[:50]), model.predict_proba(x[:50]), atol=1e-5)
    gen = write_generated(tmp_path/'run'/'model.keras', 50, tmp_path/'g.npz', seed=0)
    lab = write_labelled(tmp_path/'run'/'model.keras', x[:30], tmp_path/'l.npz')
    for f, key in ((gen['card'], 'generator_card'), (lab['card'], 'labeller_card')):
        assert json.loads(open(f).read())[key]['data'] == card['data']


def test_cli_trains_on_own_digits_and_refuses_label_flags(mine, tmp_path):
    path, x, y = mine
    assert_one_line_error(cli('train', '--preset', 'ssvae', '--data', path, '--labels', 100, '--out', tmp_path/'r'),
                          '--labels: not with your own digits')
    r = cli('train', '--preset', 'ssvae', '--data', path, '--out', tmp_path/'run', '--epochs', 6, '--steps', 20)
    assert r.returncode == 0 and r.stderr == '', r.stderr
    res = json.loads(r.stdout)
    assert res['n_labels'] == 50 and res['labels_per_class'] == [5] * 10 and 'mine.npz' in res['data']
    lab = json.loads((tmp_path/'run'/'labelled.json').read_text())
    assert lab['indices'] == np.flatnonzero(y >= 0).tolist()
    r = cli('generate', '--model', tmp_path/'run'/'model.keras', '-n', 20, '--out', tmp_path/'g.npz')
    assert r.returncode == 0, r.stderr
    assert 'mine.npz' in json.loads((tmp_path/'g.npz.json').read_text())['generator_card']['data']


def test_a_class_the_classifier_never_reads_gets_m2s_prior(mnist_train, tmp_path):
    "Small data of the user's own can leave a class too rarely read to fit a mixture: that class draws from N(0, I)."
    from vae_mnist.generate import load_generator
    from vae_mnist.sampler import load_density, save_density
    from vae_mnist.semisupervised import fit_ssvae_density
    model = load_generator('ssvae-100')
    x = mnist_train[0][:300]
    reads = model.predict_proba(x).argmax(1)
    model.predict_proba = lambda x: np.eye(10)[np.where(reads == 3, 3, 0)]  # it reads only 0s and 3s
    density = load_density(save_density(fit_ssvae_density(model, x), tmp_path/'d.latent.npz'))
    for k, g in enumerate(density.mixtures):
        assert np.allclose(g.means, 0) == (k not in (0, 3)) and g.means.shape == (4, model.config.latent_dim)
    assert np.isfinite(density.sample(np.random.default_rng(0), y=np.arange(10))).all()


def test_a_single_array_named_npz_is_one_line(mine, tmp_path):
    path, x, y = mine
    with open(tmp_path/'one.npz', 'wb') as f: np.save(f, x)  # an .npy under an .npz name
    with pytest.raises(DataError, match='holds a single .npy array, not an npz archive'):
        read_partly_labelled(tmp_path/'one.npz')
    assert not holds_own_labels(tmp_path/'one.npz')
