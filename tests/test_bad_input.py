"""The bad-input catalogue: every way a user (or their scheduler) can get `vae-mnist` wrong.

Each case asserts the exit status, that stderr is one line with the expected message and no traceback, that
stdout is empty, and that the folder the user ran in is exactly as it was: no file changed, none removed, no
temporary file left. Most cases call `main()` in this process (fast); signals, file-size limits, a full disk
and peak memory need a real process and are at the end.
"""
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vae_mnist.cli import main
from vae_mnist.core import pretrained_dir
from vae_mnist.model import get_config

REPO = Path(__file__).resolve().parents[1]
IDX = ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz')


def snapshot(d: Path) -> dict:
    "Every path under `d` with its content's hash (folders as 'dir'): what 'nothing changed' is checked against."
    return {p.relative_to(d).as_posix(): 'dir' if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob('*'))}


def run_main(capsys, *args) -> tuple[int, str, str]:
    "`vae-mnist ARGS` through `main`, in this process: (exit status, stdout, stderr)."
    try: status = main([str(a) for a in args])
    except SystemExit as e: status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_refused(status, out, err, expect, code=1):
    assert status == code, (status, err)
    assert len(err.strip().splitlines()) == 1 and 'Traceback' not in err, err
    assert expect in err, err
    assert out == ''


# --- the catalogue: (name, setup(tmp), args with {t} for the folder, expected message) ---------------------------

def _folder_with(*names):
    def setup(t):
        for n in names:
            p = t/'out'/n
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b'the user\'s own ' + n.encode())
    return setup

def _file(name, data=b'keep me'):
    def setup(t): (t/name).write_bytes(data)
    return setup

def _zip_not_keras(t):
    with zipfile.ZipFile(t/'m.keras', 'w') as z: z.writestr('notes.txt', 'not a model')

def _non_vae(t): shutil.copy(pretrained_dir()/'reader.keras', t/'m.keras')

def _pickled_npz(t):
    np.savez(t/'mnist.npz', x_train=np.array([np.zeros((28, 28)), None], dtype=object), y_train=np.zeros(2, 'uint8'),
             x_test=np.zeros((1, 28, 28), 'uint8'), y_test=np.zeros(1, 'uint8'))

def _run_folder(checkpoint: bytes | None = b'not a checkpoint'):
    def setup(t):
        (t/'run').mkdir()
        (t/'run'/'config.json').write_text(json.dumps(get_config('seed').to_dict()))
        if checkpoint is not None: (t/'run'/'checkpoint.npz').write_bytes(checkpoint)
    return setup

def _pickled_checkpoint(t):
    _run_folder(None)(t)
    np.savez(t/'run'/'checkpoint.npz', v0=np.array([None], dtype=object), history=np.array('[]'))

def _nothing(t): pass

CASES = [
    # --force must never remove what is not ours (issue 11, item 1)
    ('force npz onto a folder', _folder_with('notes.txt'),
     ['generate', '--force', '--format', 'npz', '-n', 5, '--out', '{t}/out'], 'is a folder; --force replaces only a file there'),
    ('force idx into a folder with foreign files', _folder_with(IDX[0], 'notes.txt'),
     ['generate', '--force', '--format', 'idx', '-n', 50, '--out', '{t}/out'], 'holds notes.txt, which this program does not write'),
    ('force png-folders into a folder with foreign files', _folder_with('3/0000001.png', '3/photo.jpg'),
     ['generate', '--force', '--format', 'png-folders', '-n', 5, '--out', '{t}/out'], 'holds 3/photo.jpg'),
    ('force idx onto a file', _file('out'),
     ['generate', '--force', '--format', 'idx', '-n', 50, '--out', '{t}/out'], 'is a file; --force replaces only a dataset folder'),
    ('existing output without force', _file('a.npz'), ['generate', '-n', 5, '--out', '{t}/a.npz'], 'already exists; use force=True (--force)'),
    ('existing evaluate output without force', _file('e.json'), ['evaluate', '--out', '{t}/e.json'], 'already exists'),
    ('existing dataset card without force', _file('a.npz.json'), ['generate', '-n', 5, '--out', '{t}/a.npz'], 'a.npz.json: already exists'),
    ('force over a folder where the card goes', lambda t: (t/'a.npz.json').mkdir(),
     ['generate', '--force', '-n', 5, '--out', '{t}/a.npz'], 'a.npz.json: is a folder; --force replaces only a file there'),
    ('fitted sampler for a model without one', _nothing, ['generate', '--model', 'seed', '--sampler', 'fitted', '-n', 5,
     '--out', '{t}/a.npz'], "model 'seed' carries no fitted latent density"),
    # an n that cannot fit (item 2)
    ('huge n as npz', _nothing, ['generate', '-n', 10**13, '--out', '{t}/a.npz'], '10,000,000,000,000 digits as npz needs at least'),
    ('huge n as csv', _nothing, ['generate', '-n', 10**13, '--out', '{t}/a.csv'], 'digits as csv needs at least'),
    ('huge n as csv.gz', _nothing, ['generate', '-n', 10**13, '--out', '{t}/a.csv.gz'], 'digits as csv.gz needs at least'),
    ('huge n as idx', _nothing, ['generate', '-n', 10**13, '--format', 'idx', '--out', '{t}/d'], 'digits as idx needs at least'),
    ('huge n as png folders', _nothing, ['generate', '-n', 10**13, '--format', 'png-folders', '--out', '{t}/d'], 'digits as png-folders needs'),
    # model files that are not models (items 3 and 7)
    ('generate from a zip that is not a model', _zip_not_keras, ['generate', '--model', '{t}/m.keras', '--out', '{t}/a.npz'], 'm.keras: not a loadable Keras model'),
    ('evaluate a zip that is not a model', _zip_not_keras, ['evaluate', '--model', '{t}/m.keras'], 'm.keras: not a loadable Keras model'),
    ('generate from a corrupt file', _file('m.keras', b'\x00garbage' * 50), ['generate', '--model', '{t}/m.keras', '--out', '{t}/a.npz'], 'not a Keras model file'),
    ('evaluate a Keras model that is not a VAE', _non_vae, ['evaluate', '--model', '{t}/m.keras'], 'holds a Keras Functional model, not a vae_mnist VAE'),
    ('generate from a Keras model that is not a VAE', _non_vae, ['generate', '--model', '{t}/m.keras', '--out', '{t}/a.npz'], 'not a vae_mnist VAE'),
    ('a model path that is a folder', _folder_with('x'), ['generate', '--model', '{t}/out', '--out', '{t}/a.npz'], 'is a folder, not a .keras model file'),
    ('a model file that is missing', _nothing, ['generate', '--model', '{t}/none.keras', '--out', '{t}/a.npz'], 'no such model file'),
    ('an unknown bundled model', _nothing, ['generate', '--model', 'gan', '--out', '{t}/a.npz'], "no pretrained model 'gan'"),
    # all or nothing (item 4)
    ('a preview that cannot be written', _file('blocker'),
     ['generate', '-n', 50, '--out', '{t}/a.npz', '--preview', '{t}/blocker/p.png'], 'blocker: is a file, not a folder'),
    ('the preview on the dataset', _nothing, ['generate', '-n', 50, '--out', '{t}/a.npz', '--preview', '{t}/a.npz'], 'would be the same file'),
    ('the preview inside the dataset folder', _nothing,
     ['generate', '-n', 50, '--format', 'idx', '--out', '{t}/d', '--preview', '{t}/d/p.png'], 'inside the dataset folder'),
    ('an output under a file', _file('f'), ['generate', '-n', 5, '--out', '{t}/f/a.npz'], 'is a file, not a folder'),
    # garbage numbers (item 6)
    *[(f'temperature {v}', _nothing, ['generate', '-n', 5, '--temperature', v, '--out', '{t}/a.npz'], 'temperature must be a number in (0, 10]')
      for v in ('inf', 'nan', '1e39', '0', '-1', '11')],
    ('threshold 1', _nothing, ['generate', '-n', 5, '--threshold', 1, '--out', '{t}/a.npz'], 'threshold must be in [0, 1)'),
    ('a label that is not a digit', _nothing, ['generate', '-n', 5, '--labels', 12, '--out', '{t}/a.npz'], 'labels must be digits 0-9'),
    ('too few labels', _nothing, ['generate', '-n', 5, '--labels', '1,2,3', '--out', '{t}/a.npz'], 'got 3 labels for n=5'),
    ('labels for an unconditional model', _nothing, ['generate', '--model', 'seed', '--labels', 3, '--out', '{t}/a.npz'], 'is unconditional'),
    ('an IDX split that leaves no test digits', _nothing,
     ['generate', '-n', 5, '--n-test', 5, '--format', 'idx', '--out', '{t}/d'], 'needs 1 <= n_test < n'),
    ('an output name with no format', _nothing, ['generate', '-n', 5, '--out', '{t}/a.bin'], 'cannot tell the format'),
    # misleading messages (item 7)
    ('a pickled npz as data', _pickled_npz, ['train', '--epochs', 1, '--data', '{t}/mnist.npz', '--out', '{t}/run2'],
     'holds pickled Python objects, which are never loaded'),
    ('a damaged checkpoint', _run_folder(), ['train', '--epochs', 1, '--n-train', 100, '--out', '{t}/run'], '(--fresh on the command line)'),
    ('a pickled checkpoint', _pickled_checkpoint, ['train', '--epochs', 1, '--n-train', 100, '--out', '{t}/run'], 'holds pickled Python objects'),
    ('a run folder that is a file', _file('run'), ['train', '--epochs', 1, '--n-train', 100, '--out', '{t}/run'], 'is a file, not a folder for the run'),
    ('data that is missing', _nothing, ['train', '--data', '{t}/nowhere', '--out', '{t}/run'], 'no such file or folder'),
    ('an unknown preset', _nothing, ['train', '--preset', 'huge', '--out', '{t}/run'], "unknown preset 'huge'"),
    # label (issue 19): images that are not there or not digits, a model without a classifier of its own
    ('label images that are missing', _nothing, ['label', '--data', '{t}/none.npz', '--out', '{t}/l.npz'], 'none.npz: no such file or folder'),
    ('label a file that holds no images', _file('notes.txt', b'hello'), ['label', '--data', '{t}/notes.txt', '--out', '{t}/l.npz'], 'give an .npz'),
    ('label an npz without an image array', lambda t: np.savez(t/'y.npz', y=np.zeros(3)), ['label', '--data', '{t}/y.npz', '--out', '{t}/l.npz'],
     'npz holds no image array named x or x_train'),
    ('label with a model without a classifier', _file('x.npz', b''), ['label', '--model', 'cvae', '--data', '{t}/x.npz', '--out', '{t}/l.npz'],
     'has no classifier of its own'),
    ('label onto an existing output', lambda t: (np.savez(t/'x.npz', x=np.zeros((2, 28, 28), np.uint8)), (t/'l.npz').write_bytes(b'mine')),
     ['label', '--data', '{t}/x.npz', '--out', '{t}/l.npz'], 'l.npz: already exists'),
]


@pytest.mark.parametrize('name, setup, args, expect', CASES, ids=[c[0] for c in CASES])
def test_catalogue(tmp_path, capsys, name, setup, args, expect):
    setup(tmp_path)
    before = snapshot(tmp_path)
    status, out, err = run_main(capsys, *[str(a).replace('{t}', str(tmp_path)) for a in args])
    assert_refused(status, out, err, expect)
    assert 'allow_pickle' not in err and 'resume=False to start' not in err
    assert snapshot(tmp_path) == before, "the user's files changed, or something was left behind"


def test_permission_error_names_the_users_path(capsys):
    "Even root cannot create files in /sys: the message names the output, not the hidden temporary file."
    status, out, err = run_main(capsys, 'generate', '-n', 5, '--out', '/sys/vae_mnist_test.png')
    assert_refused(status, out, err, '/sys/vae_mnist_test.png: Permission denied')
    assert '.tmp-' not in err


def test_version(capsys):
    from vae_mnist import __version__
    status, out, err = run_main(capsys, '--version')
    assert status == 0 and out.strip() == f"vae-mnist {__version__}" and err == ''


def test_info_says_when_the_data_folder_does_not_exist(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv('VAE_MNIST_DATA', str(tmp_path/'gone'))
    status, out, err = run_main(capsys, 'info')
    assert status == 0 and err == ''
    assert f"MNIST: {tmp_path/'gone'} (from VAE_MNIST_DATA) does not exist" in ' '.join(out.split())  # lines wrap at spaces


def test_force_replaces_exactly_what_we_wrote(tmp_path, capsys):
    "Not an error: --force over our own earlier output (a file, an IDX folder) replaces it and nothing else."
    (tmp_path/'notes.txt').write_text('mine')
    for fmt, out in (('npz', tmp_path/'a.npz'), ('idx', tmp_path/'d'), ('png-folders', tmp_path/'p')):
        for n in (70, 140):
            status, _, err = run_main(capsys, 'generate', '-n', n, '--format', fmt, '--out', out, '--force')
            assert status == 0, err
    from vae_mnist.data import load_mnist
    assert sum(len(s[0]) for s in load_mnist(tmp_path/'d')) == 140
    assert sum(len(list((tmp_path/'p'/str(k)).iterdir())) for k in range(10)) == 140
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.npz', 'a.npz.json', 'd', 'notes.txt', 'p']  # a.npz.json: the dataset card
    assert json.loads((tmp_path/'d'/'dataset.json').read_text())['n'] == 140 and json.loads((tmp_path/'a.npz.json').read_text())['n'] == 140
    assert (tmp_path/'notes.txt').read_text() == 'mine'


def test_exports_with_one_stem_keep_their_own_cards(tmp_path, capsys):
    "Issue 20: an npz, a csv and an IDX folder of the same stem side by side, each card naming what it describes; "
    "--force on one never touches another's card."
    d = tmp_path/'d'
    for n, out, fmt in ((200, d/'s.npz', 'npz'), (30, d/'s.csv', 'csv'), (70, d/'s', 'idx')):
        status, _, err = run_main(capsys, 'generate', '-n', n, '--format', fmt, '--out', out)
        assert status == 0, err
    cards = {f: json.loads(p.read_text()) for f, p in (('s.npz', d/'s.npz.json'), ('s.csv', d/'s.csv.json'), ('s', d/'s'/'dataset.json'))}
    assert {f: (c['n'], c['format'], c['files']) for f, c in cards.items()} == {
        's.npz': (200, 'npz', ['s.npz']), 's.csv': (30, 'csv', ['s.csv']),
        's': (70, 'idx', sorted(IDX))}  # the files of a folder's card: inside that folder
    before = snapshot(d)
    status, _, err = run_main(capsys, 'generate', '-n', 40, '--out', d/'s.csv', '--force')
    assert status == 0, err
    after = snapshot(d)
    assert {k for k in after if after[k] != before.get(k)} == {'s.csv', 's.csv.json'}
    assert json.loads((d/'s.csv.json').read_text())['n'] == 40 and json.loads((d/'s.npz.json').read_text())['n'] == 200


ABBREVIATIONS = [  # (what the user typed, the flag they meant): argparse used to take any unique prefix
    (['generate', '--n', 300, '--out', '{t}/s.npz'], '-n'),
    (['generate', '--n=300', '--out', '{t}/s.npz'], '-n'),
    (['generate', '-n', 5, '--temp', '0.5', '--out', '{t}/s.npz'], '--temperature'),
    (['generate', '-n', 5, '--ou', '{t}/s.npz'], '--out'),
    (['train', '--epoch', 1, '--out', '{t}/run'], '--epochs'),
    (['evaluate', '--model', 'mlp', '--qual'], '--quality'),
    (['info', '--js'], '--json'),
]


@pytest.mark.parametrize('args, meant', ABBREVIATIONS, ids=[' '.join(str(w) for w in a[0] if '{t}' not in str(w)) for a in ABBREVIATIONS])
def test_flags_only_as_written(tmp_path, capsys, args, meant):
    "Issue 20: an abbreviated flag is a one-line error (exit 2) that names the flag meant; nothing is written."
    before = snapshot(tmp_path)
    status, out, err = run_main(capsys, *[str(a).replace('{t}', str(tmp_path)) for a in args])
    assert_refused(status, out, err, 'only as written', code=2)
    assert f"did you mean {meant}" in err, err
    assert snapshot(tmp_path) == before


# --- real processes: signals, limits, a full disk, memory ---------------------------------------------------------

def _cmd(*args):
    return [sys.executable, '-c', 'import sys; from vae_mnist.cli import main; sys.exit(main())', *map(str, args)]

def _env():
    "The environment of a real run; Keras's cache folder outside the user's folder, which must not change."
    e = {**os.environ, 'PYTHONPATH': str(REPO), 'KERAS_HOME': tempfile.mkdtemp(prefix='keras_home')}
    e.pop('TF_CPP_MIN_LOG_LEVEL', None)
    return e

def _wait_for(pred, proc, timeout=120):
    t0 = time.monotonic()
    while not pred():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < timeout, 'timed out'
        time.sleep(0.05)

def _temps(d: Path): return [p for p in d.iterdir() if p.name.startswith('.tmp-')]


@pytest.mark.parametrize('sig, status', [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_write_cleans_up_and_keeps_the_earlier_output(tmp_path, sig, status):
    "A signal while the dataset and its preview are half written: one line, the status shells expect, no temporary "
    "file, and the earlier dataset (which --force was to replace) as it was."
    _folder_with(*IDX)(tmp_path)  # an earlier IDX output (our names): --force may replace it, but only on success
    (tmp_path/'preview.png').write_bytes(b'earlier preview')
    before = snapshot(tmp_path)
    p = subprocess.Popen(_cmd('generate', '-n', 10**8, '--format', 'idx', '--out', tmp_path/'out', '--preview',
                              tmp_path/'preview.png', '--force', '--batch-size', 2000), env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tmp_images = lambda: [t for t in _temps(tmp_path) if t.is_dir() and (t/IDX[0]).exists()]
    _wait_for(lambda: any((t/IDX[0]).stat().st_size > 20_000 for t in tmp_images()), p)  # digits are being written
    p.send_signal(sig)
    out, err = p.communicate(timeout=120)
    assert_refused(p.returncode, out, err, f"interrupted ({sig.name}); nothing was written", code=status)
    assert snapshot(tmp_path) == before


def test_interrupted_training_resumes(tmp_path):
    "Ctrl-C in the middle of training: one line that says how to go on, exit 130; the same command then resumes."
    args = ('train', '--preset', 'seed', '--epochs', 200, '--n-train', 3000, '--out', tmp_path/'run')
    p = subprocess.Popen(_cmd(*args), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (tmp_path/'run'/'history.json').exists() and json.loads((tmp_path/'run'/'history.json').read_text()), p)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert_refused(p.returncode, out, err, 'run the same command again to resume from the last finished epoch', code=130)
    assert not _temps(tmp_path/'run')
    done = len(json.loads((tmp_path/'run'/'history.json').read_text()))
    r = subprocess.run(_cmd(*args[:4], done + 1, *args[5:]), env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and json.loads(r.stdout)['epochs'] == done + 1, r.stderr


def test_file_size_limit_is_one_line_naming_the_output(tmp_path):
    "A write that the system refuses midway (here RLIMIT_FSIZE, as a quota would): one line naming --out, no temp file."
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
    r = subprocess.run(_cmd('generate', '-n', 20_000, '--out', tmp_path/'a.npz'), env=_env(), capture_output=True,
                       text=True, preexec_fn=limit, timeout=600)
    assert_refused(r.returncode, r.stdout, r.stderr, f"{tmp_path/'a.npz'}: File too large")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def small_disk(tmp_path):
    "A 2 MB tmpfs: a real full disk. Needs root (CI runs as root; elsewhere the test is skipped)."
    if os.geteuid() != 0: pytest.skip('mounting a tmpfs needs root')
    d = tmp_path/'small'; d.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', str(d)], check=True)
    yield d
    subprocess.run(['umount', str(d)], check=True)


def test_full_disk(small_disk):
    "Refused up front when it cannot fit; when it fills the disk midway, one line naming --out, and nothing left."
    r = subprocess.run(_cmd('generate', '-n', 10_000, '--out', small_disk/'a.npz'), env=_env(), capture_output=True, text=True, timeout=600)
    assert_refused(r.returncode, r.stdout, r.stderr, 'a.npz: 10,000 digits as npz needs at least 7.8 MB, and only')
    r = subprocess.run(_cmd('generate', '-n', 2000, '--format', 'png-folders', '--out', small_disk/'p'), env=_env(),
                       capture_output=True, text=True, timeout=600)
    assert_refused(r.returncode, r.stdout, r.stderr, f"{small_disk/'p'}: No space left on device")
    assert list(small_disk.iterdir()) == []


def _peak_rss(pid) -> int:
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmHWM:'): return int(line.split()[1]) * 1024
    raise AssertionError('no VmHWM')


def test_memory_stays_bounded_for_a_billion_digits(tmp_path):
    "-n 1,000,000,000: memory follows the batch, not n (a billion labels alone would be 1-8 GB). Stopped early."
    p = subprocess.Popen(_cmd('generate', '-n', 10**9, '--out', tmp_path/'grid.png'), env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _temps(tmp_path), p)  # the writer is open: generation starts now
    time.sleep(8)  # the first batches: TensorFlow's buffers and the sampler's warm up (~0.25 GB on the default model)
    early = _peak_rss(p.pid)
    time.sleep(12)  # hundreds of thousands of digits later
    late = _peak_rss(p.pid)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 143, err
    assert late < 2_000_000_000 and late - early < 150_000_000, (early, late)
    assert list(tmp_path.iterdir()) == []


def _history(run: Path) -> list:
    try: return json.loads((run/'history.json').read_text())
    except (OSError, ValueError): return []


def test_one_train_per_run_folder(tmp_path):
    "Issue 20: a second train into a folder a running train uses is refused at once, in one line naming the folder; "
    "the first goes on; after kill -9 of the first the next run is not blocked (an OS lock dies with its process)."
    run, args = tmp_path/'run', ('train', '--preset', 'seed', '--epochs', 200, '--n-train', 3000, '--out', tmp_path/'run')
    first = subprocess.Popen(_cmd(*args), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _history(run), first)
    r = subprocess.run(_cmd(*args), env=_env(), capture_output=True, text=True, timeout=300)
    assert_refused(r.returncode, r.stdout, r.stderr, f"{run}: another vae-mnist run (pid {first.pid}) is using it")
    done = len(_history(run))
    _wait_for(lambda: len(_history(run)) > done, first)  # the first run was not disturbed: it trains on
    first.kill(); first.wait()
    done = len(_history(run))
    r = subprocess.run(_cmd(*args[:4], done + 1, *args[5:]), env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and json.loads(r.stdout)['epochs'] == done + 1, r.stderr  # resumed, not blocked
    assert not [p for p in run.iterdir() if p.name.startswith('.')], list(run.iterdir())


def test_one_generate_per_output(tmp_path):
    "Issue 20: a generate onto an output another generate is writing is refused (with --force too) and the first writes "
    "on undisturbed; after kill -9 of a writer the next run writes."
    gen = lambda *a: _cmd('generate', '--model', 'cvae', '--format', 'idx', '--out', tmp_path/'d', *a)  # idx: 40 bytes a digit at least
    first = subprocess.Popen(gen('-n', 10**8, '--batch-size', 2000), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _temps(tmp_path), first)
    r = subprocess.run(gen('-n', 100, '--force'), env=_env(), capture_output=True, text=True, timeout=300)
    assert_refused(r.returncode, r.stdout, r.stderr, f"{tmp_path/'d'}: another vae-mnist run (pid {first.pid}) is using it")
    size = lambda: sum(f.stat().st_size for t in _temps(tmp_path) if t.is_dir() for f in t.iterdir())
    grown = size() + 200_000
    _wait_for(lambda: size() > grown, first)  # the first run writes on
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 143, err
    assert list(tmp_path.iterdir()) == []  # nothing of either run is left
    killed = subprocess.Popen(gen('-n', 10**8), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: _temps(tmp_path), killed)
    killed.kill(); killed.wait()
    r = subprocess.run(gen('-n', 100), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ['d'] and json.loads((tmp_path/'d'/'dataset.json').read_text())['n'] == 100


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path):
    "kill -9 cannot be cleaned up after; the next run writing the same output removes what it left."
    p = subprocess.Popen(_cmd('generate', '-n', 10**8, '--format', 'idx', '--out', tmp_path/'d'), env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(lambda: _temps(tmp_path), p)
    time.sleep(1)
    p.kill(); p.wait()
    assert _temps(tmp_path)
    r = subprocess.run(_cmd('generate', '-n', 100, '--format', 'idx', '--out', tmp_path/'d'), env=_env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not _temps(tmp_path) and sorted(p.name for p in tmp_path.iterdir()) == ['d']


def test_parquet_without_pyarrow_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'pyarrow', None)  # as on a machine without the [parquet] extra
    status, out, err = run_main(capsys, 'generate', '--model', 'cvae', '-n', 20, '--format', 'parquet', '--out', tmp_path/'hf')
    assert_refused(status, out, err, "writing Parquet needs pyarrow, which is not installed; pip install 'vae_mnist[parquet]'")
    assert list(tmp_path.iterdir()) == []
