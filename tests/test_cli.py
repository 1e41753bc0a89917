"The `vae-mnist` command, run as a user runs it: the real entry point in a fresh process, every subcommand and every user mistake."
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def cli(*args, cwd=None, env=None):
    "Run `vae-mnist ARGS` through the real entry point (`vae_mnist.cli:main`, what the console script calls)."
    cmd = [sys.executable, '-c', 'import sys; from vae_mnist.cli import main; sys.exit(main())', *map(str, args)]
    e = {**os.environ, 'PYTHONPATH': str(REPO), **(env or {})}
    e.pop('TF_CPP_MIN_LOG_LEVEL', None)  # the CLI must keep TensorFlow's start-up noise out of stderr by itself
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=e, timeout=600)


def assert_one_line_error(r, expect, status=1):
    assert r.returncode == status, (r.returncode, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1, f"expected one line on stderr, got:\n{r.stderr}"
    assert expect in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert r.stdout == ''


@pytest.mark.parametrize('sub', [None, 'train', 'generate', 'label', 'evaluate', 'info'])
def test_help(sub):
    r = cli(*([sub] if sub else []), '--help')
    assert r.returncode == 0 and r.stdout.startswith('usage: vae-mnist') and r.stderr == ''
    if sub is None: assert all(s in r.stdout for s in ('train', 'generate', 'label', 'evaluate', 'info'))
    if sub == 'generate': assert '--preview' in r.stdout and '--force' in r.stdout


def test_info_text_and_json():
    r = cli('info')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    assert 'cvae' in r.stdout and 'classifier' in r.stdout and 'test accuracy' in r.stdout
    info = json.loads(cli('info', '--json').stdout)
    assert {'seed', 'mlp', 'cvae'} <= set(info['models']) and 'classifier' not in info['models']
    assert info['classifier']['test_accuracy'] >= 0.99 and info['classifier']['kind'] == 'cnn'
    from vae_mnist.generate import DEFAULT_MODEL
    assert [n for n, m in info['models'].items() if m['default']] == [DEFAULT_MODEL] and info['models'][DEFAULT_MODEL]['fitted_sampler']
    import keras
    assert info['backend'].startswith(keras.backend.backend() + ' (') and 'Keras backend: ' + info['backend'].split(':')[0] in r.stdout  # the why after it can differ: Keras writes keras.json on first use
    assert 'default generator' in r.stdout


def test_main_job_generates_a_labelled_dataset_and_preview(tmp_path):
    "The README's main-job command: the default generator and its fitted sampler, a dataset card beside the data."
    from vae_mnist.generate import DEFAULT_MODEL
    r = cli('generate', '-n', 10000, '--out', tmp_path/'out'/'synthetic.npz', '--preview', tmp_path/'out'/'preview.png')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    summary = json.loads(r.stdout)
    assert summary['counts'] == [1000] * 10 and (summary['model'], summary['sampler']) == (DEFAULT_MODEL, 'fitted')
    card = json.loads((tmp_path/'out'/'synthetic.npz.json').read_text())
    assert (card['generator'], card['sampler'], card['seed'], card['n']) == (DEFAULT_MODEL, 'fitted', 0, 10000)
    assert sorted(p.name for p in (tmp_path/'out').iterdir()) == ['preview.png', 'synthetic.npz', 'synthetic.npz.json']
    with np.load(tmp_path/'out'/'synthetic.npz') as f:
        assert f['x'].shape == (10000, 28, 28) and f['x'].dtype == np.uint8 and np.bincount(f['y']).tolist() == [1000] * 10
    assert (tmp_path/'out'/'preview.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_generate_other_formats_load_back(tmp_path):
    from vae_mnist.data import load_mnist, read_csv
    assert cli('generate', '--model', 'seed', '-n', 300, '--out', tmp_path/'s.csv', '--threshold', 0.5).returncode == 0
    x, y = read_csv(tmp_path/'s.csv')
    assert x.shape == (300, 28, 28)
    assert cli('generate', '--model', 'mlp', '-n', 700, '--out', tmp_path/'idx', '--format', 'idx').returncode == 0
    (xa, _), (xb, _) = load_mnist(tmp_path/'idx')
    assert (len(xa), len(xb)) == (600, 100)
    r = cli('generate', '-n', 3, '--labels', '4,5,6', '--out', tmp_path/'l.npz', '--seed', 2, '--sampler', 'prior')
    with np.load(tmp_path/'l.npz') as f: assert f['y'].tolist() == [4, 5, 6]
    assert json.loads((tmp_path/'l.npz.json').read_text())['sampler'] == 'prior' and json.loads(r.stdout)['sampler'] == 'prior'
    r = cli('generate', '--model', 'seed', '-n', 3, '--sampler', 'fitted', '--out', tmp_path/'f.npz')
    assert_one_line_error(r, "model 'seed' carries no fitted latent density")
    assert cli('generate', '-n', 3, '--labels', '4,5,6', '--out', tmp_path/'l.npz', '--seed', 2, '--force').returncode == 0


def test_train_then_generate_from_the_trained_file(tmp_path):
    r = cli('train', '--preset', 'seed', '--epochs', 1, '--n-train', 500, '--out', tmp_path/'run')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    assert json.loads(r.stdout)['epochs'] == 1 and (tmp_path/'run'/'model.keras').is_file()
    r = cli('train', '--preset', 'seed', '--epochs', 2, '--n-train', 500, '--out', tmp_path/'run')  # resumes
    assert json.loads(r.stdout)['epochs'] == 2
    r = cli('generate', '--model', tmp_path/'run'/'model.keras', '-n', 50, '--out', tmp_path/'g.npz')
    assert r.returncode == 0, r.stderr


def test_evaluate_prints_json(tmp_path):
    r = cli('evaluate', '--model', 'mlp', '--n-test', 1000, '--n-synthetic', 200, '-k', 2, '--steps', 50, '--out', tmp_path/'e.json')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    res = json.loads(r.stdout)
    assert res == json.loads((tmp_path/'e.json').read_text())
    assert res['model'] == 'mlp' and res['n_test'] == 1000 and res['iw_nll'] > 0 and res['fid'] >= 0
    assert set(res['augmentation']['real_only']) == {'100', '1000'}


# --- user mistakes: one line on stderr, non-zero exit, no traceback ----------------------------------------------

@pytest.mark.parametrize('args, expect', [
    (('generate', '-n', 0, '--out', 'x.npz'), 'must be a positive whole number, got 0'),
    (('generate', '-n', -3, '--out', 'x.npz'), 'must be a positive whole number, got -3'),
    (('generate', '-n', 'ten', '--out', 'x.npz'), "'ten' is not a whole number"),
    (('generate', '-n', 10), 'the following arguments are required: --out'),
    (('generate', '--out', 'x.npz', '--format', 'tiff'), "invalid choice: 'tiff'"),
    (('generate', '--out', 'x.npz', '--labels', 'a,b'), 'give one digit or a comma-separated list'),
    (('fly',), "invalid choice: 'fly'"),
    ((), 'the following arguments are required'),
])
def test_command_line_mistakes(args, expect):
    assert_one_line_error(cli(*args), expect, status=2)


def test_missing_model_file(tmp_path):
    assert_one_line_error(cli('generate', '--model', tmp_path/'none.keras', '--out', tmp_path/'a.npz'), 'no such model file')


def test_unknown_model_name(tmp_path):
    assert_one_line_error(cli('generate', '--model', 'gan', '--out', tmp_path/'a.npz'), "no pretrained model 'gan'")


def test_unknown_preset(tmp_path):
    assert_one_line_error(cli('train', '--preset', 'huge', '--out', tmp_path/'run'), "unknown preset 'huge'")


def test_existing_output_needs_force(tmp_path):
    (tmp_path/'a.npz').write_bytes(b'x')
    assert_one_line_error(cli('generate', '-n', 5, '--out', tmp_path/'a.npz'), 'already exists')
    assert (tmp_path/'a.npz').read_bytes() == b'x'
    (tmp_path/'e.json').write_text('{}')
    assert_one_line_error(cli('evaluate', '--out', tmp_path/'e.json'), 'already exists')


def test_unwritable_output(tmp_path):
    (tmp_path/'file').write_text('not a folder')
    assert_one_line_error(cli('generate', '-n', 5, '--out', tmp_path/'file'/'a.npz'), 'file')


def test_unknown_output_format(tmp_path):
    assert_one_line_error(cli('generate', '-n', 5, '--out', tmp_path/'a.bin'), 'cannot tell the format')


def test_labels_for_an_unconditional_model(tmp_path):
    assert_one_line_error(cli('generate', '--model', 'seed', '--labels', 3, '--out', tmp_path/'a.npz'), 'is unconditional')


def test_impossible_threshold(tmp_path):
    assert_one_line_error(cli('generate', '--threshold', 1.0, '--out', tmp_path/'a.npz'), 'threshold must be in [0, 1)')


def test_missing_data(tmp_path):
    assert_one_line_error(cli('train', '--out', tmp_path/'run', '--data', tmp_path/'nowhere'), 'no such file or folder')


def test_bad_data(tmp_path):
    d = tmp_path/'mnist'; d.mkdir()
    for name in ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'):
        (d/name).write_bytes(b'this is not an IDX file')
    assert_one_line_error(cli('train', '--epochs', 1, '--out', tmp_path/'run', '--data', d), str(d))
    assert_one_line_error(cli('evaluate', '--data', d), str(d))


def test_too_many_synthetic_for_the_test_set():
    assert_one_line_error(cli('evaluate', '--n-test', 1000, '--n-synthetic', 600), 'needs a test set of 1200')


def test_python_dash_m_runs_the_same_main(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'vae_mnist.cli', 'generate', '-n', '0', '--out', 'x.npz'],
                       capture_output=True, text=True, cwd=tmp_path, env={**os.environ, 'PYTHONPATH': str(REPO)})
    assert_one_line_error(r, 'must be a positive whole number, got 0', status=2)
    r = subprocess.run([sys.executable, '-m', 'vae_mnist.cli', 'info', '--json'], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, 'PYTHONPATH': str(REPO)})
    assert r.returncode == 0 and 'cvae' in json.loads(r.stdout)['models']


def test_evaluate_quality_small_run():
    "`evaluate --quality`: the data-quality figures of one model and sampler, next to the same recipe on real digits."
    r = cli('evaluate', '--model', 'cvae', '--quality', '--seeds', 1, '--n-test', 1000, '--n-synthetic', 300, '--steps', 30)
    assert r.returncode == 0 and r.stderr == '', r.stderr
    q = json.loads(r.stdout)
    assert (q['model'], q['sampler'], q['n'], q['kind'], len(q['tstr']['per_seed'])) == ('cvae', 'fitted', 300, 'cnn', 1)
    assert 0 < q['tstr']['mean'] <= 1 and 0 < q['real_reference']['mean'] <= 1 and q['agreement']['accuracy'] > 0.9


def test_train_ssvae_writes_its_labels_resumes_and_generates(tmp_path):
    "`train --preset ssvae --labels L`: M1 and M2 in one folder, the labelled indices beside them, resumable; its model generates."
    run = tmp_path/'ss'
    args = ('train', '--preset', 'ssvae', '--labels', 20, '--n-train', 3000, '--epochs', 3, '--out', run)
    r = cli(*args, '--steps', 50)
    assert r.returncode == 0 and r.stderr == '', r.stderr
    res = json.loads(r.stdout)
    assert (res['n_labels'], res['epochs']) == (20, 1) and 0.1 <= res['test_accuracy'] <= 1
    lab = json.loads((run/'labelled.json').read_text())
    assert len(lab['indices']) == 20 and max(lab['indices']) < 3000 and np.bincount(lab['labels']).tolist() == [2] * 10
    assert (run/'m1'/'model.keras').is_file() and (run/'model.keras').is_file()
    card = json.loads((run/'model.json').read_text())  # the run's card: its data, its labels, its classifier on the test set
    assert card['n_labels'] == 20 and 'MNIST training images' in card['data'] and card['test']['accuracy'] == res['test_accuracy']
    r = cli(*args, '--steps', 550)  # resumes: M2's second epoch (50 steps: an epoch is 500) only
    assert json.loads(r.stdout)['epochs'] == 2, r.stderr
    assert len(json.loads((run/'history.json').read_text())) == 2
    assert (run/'model.latent.npz').is_file()  # its fitted density, which generate finds beside the model
    r = cli('generate', '--model', run/'model.keras', '-n', 50, '--labeller', 'drawn', '--out', tmp_path/'g.npz')
    assert r.returncode == 0 and json.loads(r.stdout)['counts'] == [5] * 10 and json.loads(r.stdout)['sampler'] == 'fitted', r.stderr


def test_ssvae_flags_and_label_counts_are_checked(tmp_path):
    assert_one_line_error(cli('train', '--preset', 'cvae', '--labels', 100, '--out', tmp_path/'r'), '--labels: only for --preset ssvae')
    assert_one_line_error(cli('train', '--preset', 'ssvae', '--labels', 105, '--out', tmp_path/'r'), 'multiple of 10')
    assert_one_line_error(cli('train', '--preset', 'ssvae', '--labels', 1000, '--n-train', 500, '--out', tmp_path/'r'),
                          '1000 labels need 100 images of class')


def test_bundled_ssvae_generates_and_evaluate_says_how_to_measure_it(tmp_path):
    r = cli('generate', '--model', 'ssvae-100', '-n', 100, '--out', tmp_path/'ss.npz')
    assert r.returncode == 0 and sum(json.loads(r.stdout)['counts']) == 100, r.stderr
    card = json.loads((tmp_path/'ss.npz.json').read_text())
    assert card['generator'] == 'ssvae-100' and card['sampler'] == 'fitted' and "model's own classifier" in card['labelled_by']
    from vae_mnist.cards import mixing_rule  # how many of these to add to 100 real digits: the card and the command say it
    assert card['mixing'] == mixing_rule(100) and json.loads(r.stdout)['advice'] == mixing_rule(100)['advice']
    from vae_mnist.generate import load_generator  # registers the SSVAE class (load_pretrained alone would not, in a fresh process)
    with np.load(tmp_path/'ss.npz') as f: np.testing.assert_array_equal(f['y'], load_generator('ssvae-100').predict_proba(f['x']).argmax(1))
    r = cli('generate', '--model', 'ssvae-100', '-n', 100, '--labeller', 'drawn', '--out', tmp_path/'drawn.npz')
    assert r.returncode == 0 and json.loads(r.stdout)['counts'] == [10] * 10, r.stderr
    assert_one_line_error(cli('generate', '--model', 'cvae', '-n', 10, '--labeller', 'classifier', '--out', tmp_path/'c.npz'),
                          "model 'cvae' has no classifier of its own")
    assert_one_line_error(cli('evaluate', '--model', 'ssvae-100'), 'a semi-supervised VAE; evaluate it with --quality')


def test_label_your_own_digits(tmp_path):
    "Issue 19, item 2: `vae-mnist label` writes the user's images with the labels the model's classifier reads, and a card."
    from vae_mnist.data import load_mnist
    (_, _), (xt, yt) = load_mnist()
    np.savez(tmp_path/'mine.npz', x=xt[:300])
    r = cli('label', '--data', tmp_path/'mine.npz', '--out', tmp_path/'labelled'/'mine.csv')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    from vae_mnist.data import read_csv
    from vae_mnist.model import load_pretrained
    xs, ys = read_csv(tmp_path/'labelled'/'mine.csv')
    np.testing.assert_array_equal(xs, xt[:300])
    np.testing.assert_array_equal(ys, load_pretrained('ssvae-100').predict_proba(xt[:300]).argmax(1))
    assert (ys == yt[:300]).mean() > 0.9
    card = json.loads((tmp_path/'labelled'/'mine.csv.json').read_text())
    assert card['labels'].startswith('predicted') and card['files'] == ['mine.csv'] and card['n'] == 300
    assert card['source'] == str(tmp_path/'mine.npz') and 0.9 < card['classifier_test_accuracy'] < 1
