"""Nothing shipped rots (issue 26, item 5): every script in bench/ runs, in a fresh process, as `python bench/X.py --smoke`.

`--smoke` is the same code path on a tiny size (a few hundred images, an epoch or two, a few steps), seconds each. A run
must exit 0, print its figures (checked below, per script), and write nothing into the package or bench/. A script
added to bench/ without an entry here fails `test_every_bench_script_has_a_smoke_test`. bench/README.md lists the
commands; about 2 minutes for the whole set on 2 cores (TensorFlow).
"""
import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO/'bench'
SHARED_MNIST = REPO.parent/'shared'/'data'/'mnist-22k'  # what the Makefile exports as VAE_MNIST_DATA
TIMEOUT = 240  # seconds per script (each takes ~5-25 s on 2 cores)


def run_bench(name: str, *args, timeout: int = TIMEOUT) -> subprocess.CompletedProcess:
    "`python bench/NAME.py ARGS` from the repository root, as a user runs it (KERAS_BACKEND and the rest inherited)."
    env = dict(os.environ)
    env.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    if 'VAE_MNIST_DATA' not in env and (SHARED_MNIST/'t10k-images-idx3-ubyte.gz').is_file(): env['VAE_MNIST_DATA'] = str(SHARED_MNIST)
    return subprocess.run([sys.executable, str(BENCH/f'{name}.py'), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def tail(s: str, n: int = 40) -> str: return '\n'.join(s.strip().splitlines()[-n:])


def json_lines(out: str) -> list[dict]:
    "The one-line JSON objects a script printed."
    return [json.loads(l) for l in out.splitlines() if l.startswith('{') and l.rstrip().endswith('}')]


def line(out: str, start: str) -> str:
    "The first printed line that starts with `start`."
    found = [l for l in out.splitlines() if l.startswith(start)]
    assert found, f"no line starting with {start!r} in:\n{tail(out)}"
    return found[0]


def accuracy(v) -> bool: return isinstance(v, float) and 0 <= v <= 1


# What each script's smoke run must print: a check of its stdout per script (every bench/*.py has one).
def check_backends(out):
    res = json.loads(out)
    want = os.environ.get('KERAS_BACKEND', 'tensorflow')
    assert [r['backend'] for r in res['backends']] == [want], res['backends']
    [r] = res['backends']
    assert 'error' not in r, r
    for k in ('seed', 'cvae', 'digits', 'm2'): assert r[k]['epoch_s'] > 0 and r[k]['vs_seed_as_written'] > 0, r[k]
    assert r['generate_digits']['n'] == r['generate_cvae']['n'] > 0 and r['generate_digits_vs_cvae'] > 0
    assert res['seed_as_written']['epoch_s'] > 0
    t = r['train_command']  # the `train` command's wall, split: import, epochs, and what is outside both, itemized
    assert 'error' not in t and t['command'].startswith('vae-mnist train --preset digits --epochs 1'), t
    assert t['wall_s'] > t['epochs_s'] > 0 and t['import_s'] > 0, t
    assert abs(t['import_s'] + t['epochs_s'] + t['outside_s'] - t['wall_s']) < 0.02, t
    assert set(t['outside']) == {'data', 'checkpoints', 'sampler_fit', 'model_save', 'other'} and t['outside']['sampler_fit'] > 0, t
    assert r['device'] == 'cpu' or r['device'].startswith('cpu'), r['device']


def check_data_quality(out):
    assert line(out, 'real 300:')
    row = line(out, 'cvae:fitted:1: agreement')
    assert 'TSTR' in row and 'FID' in row and 'NN' in row
    assert line(out, 'written: ').endswith('(temporary: removed now)')


def check_data_speed(out):
    for name in ('read_idx', 'load_mnist(fashion_mnist)', 'naive IDX (pure Python)', 'read_csv', 'seed CSV (as written)'):
        n, median, best, per_digit = line(out, name)[26:].split()[:4]  # the table's columns
        assert int(n.replace(',', '')) > 0 and float(median) >= float(best) >= 0 and float(per_digit) >= 0
    assert 'not judged (--smoke' in line(out, 'target read_idx') and line(out, 'read_csv vs seed CSV: ours is')


def check_few_labels(out):
    [row] = json_lines(out)
    assert row['n_labels'] == 100 and row['draw'] == 0 and row['seconds'] > 0
    assert all(accuracy(row[k]) for k in ('vae_classifier', 'hidden_labels', 'real_only', 'real_plus_generated', 'mlp_real_only', 'reader_agreement'))
    assert 'ratio' in line(out, 'ssvae-100 trained in')  # the cost: M1 + M2 against the seed's build + fit


def check_few_labels_curve(out):
    [row] = json_lines(out)
    assert (row['n_labels'], row['draw'], row['generator'], row['steps']) == (20, 0, 'ssvae', 20)
    assert all(accuracy(row[k]) for k in ('real_only', 'ours', 'real_plus_ours', 'mixed', 'ssvae_classifier'))
    assert row['mixing'] in {'real alone', 'all of ours', 'all, real half', 'all, real 80%', '5,000 of ours'}  # the shipped rule for n = 100


def check_few_labels_data(out):
    rows = json_lines(out)
    assert [r['idea'] for r in rows] == ['prior_drawn', 'prior_clf', 'fitted_drawn', 'fitted_clf', 'pseudo', 'pseudo_plus_fitted_clf']
    assert all(accuracy(r['independent_cnn']) for r in rows) and rows[-1]['n'] == 2 * rows[0]['n']


def check_labeller(out):
    assert line(out, 'M1 on 1,000 images')
    [r] = json_lines(out)
    assert (r['idea'], r['n_labels'], r['draw'], r['steps']) == ('default', 20, 0, 20) and accuracy(r['val']) and accuracy(r['test'])


def check_mixing(out):
    assert line(out, 'M1 on 1,000 images')
    real_alone = float(line(out, 'n = 20, real alone:').split(': ')[1].split('%')[0]) / 100
    labeller_row, rule = json_lines(out)  # bench/labeller.py --smoke's run, then the rule for n = 20
    assert labeller_row['idea'] == 'default' and rule['n_labels'] == 20 and rule['val_real_alone'] == round(real_alone, 4)
    assert rule['chosen'] in {'real alone', 'all of ours', 'all, real half', 'all, real 80%', '5,000 of ours'} and accuracy(rule['val'])


def check_generate_speed(out):
    assert '1,000 labelled digits generated and written to npz' in line(out, 'ours (seed):')
    assert line(out, 'seed as written (one predict per point') and 'faster per digit' in line(out, 'ratio: ours is')


def check_generator_cost(out):
    assert 'the full run is extrapolated' in line(out, 'digits: trained 2 of 30 epochs')
    assert 'ratio' in line(out, 'seed as written:') and line(out, 'target (at most 15x')


def check_m1_codes(out):
    first, row = json_lines(out)
    assert accuracy(first['pixels_1nn']) and row['beta'] == 1.0 and accuracy(row['codes_1nn']) and accuracy(row['all_labels'])


def check_seed_reference(out):
    res = json.loads(out)
    assert (res['n_train'], res['n_test'], res['epochs'], len(res['epoch_times'])) == (256, 256, 1, 1)
    assert math.isfinite(res['test_loss_true']) and res['fit_s'] > 0 and res['versions']['tf_keras']


def check_train_floor(out):
    assert line(out, 'raw TensorFlow, no Keras: 1 run(s) of 2 epochs')
    assert math.isfinite(float(line(out, '  all 2 epochs:').split('final test loss ')[1]))


def check_train_speed(out):
    assert line(out, 'training images').split()[-2:] == ['256', '256']
    assert float(line(out, 'wall seconds: build + all epochs').split()[-1]) > 0
    assert line(out, "target (the seed's test loss")


CHECKS = {name[len('check_'):]: f for name, f in globals().items() if name.startswith('check_')}


def test_every_bench_script_has_a_smoke_test():
    assert sorted(CHECKS) == sorted(p.stem for p in BENCH.glob('*.py')), "each bench/*.py needs --smoke and a check here"
    readme = (BENCH/'README.md').read_text()
    assert all(f"python bench/{n}.py --smoke" in readme for n in CHECKS), "bench/README.md lists each smoke command"


def test_bench_imports_only_public_names():
    "The scripts use the package as a user would: no `_private` name from vae_mnist (those may change without notice)."
    bad = []
    for p in sorted(BENCH.glob('*.py')):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('vae_mnist'):
                bad += [f"{p.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith('_')]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and \
                    isinstance(node.value.value, ast.Name) and node.value.value.id == 'vae_mnist' and node.attr.startswith('_'):
                bad.append(f"{p.name}: vae_mnist.{node.value.attr}.{node.attr}")
    assert not bad, bad


def _snapshot() -> dict:
    "What the package's assets and bench/ hold (path -> size, mtime), caches aside."
    files = [*(REPO/'vae_mnist'/'assets').rglob('*'), *BENCH.rglob('*')]
    return {str(f): (f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file() and '__pycache__' not in f.parts}


@pytest.mark.parametrize('name', sorted(CHECKS))
def test_smoke(name):
    before = _snapshot()
    r = run_bench(name, '--smoke')
    assert r.returncode == 0, f"bench/{name}.py --smoke exited {r.returncode}; stderr:\n{tail(r.stderr)}\nstdout:\n{tail(r.stdout, 15)}"
    try: CHECKS[name](r.stdout)
    except Exception as e:
        raise AssertionError(f"bench/{name}.py --smoke printed unexpected figures ({type(e).__name__}: {e}):\n{tail(r.stdout)}"
                             f"\nstderr:\n{tail(r.stderr, 15)}") from e
    assert _snapshot() == before, f"bench/{name}.py --smoke wrote into vae_mnist/assets or bench/"


@pytest.mark.parametrize('name, args', [('data_quality', ['--out', 'vae_mnist/assets/quality.json']),
                                        ('few_labels', ['--out', 'vae_mnist/assets/few_labels.json']),
                                        ('backends', ['--json', 'bench/backends.json'])])
def test_smoke_refuses_to_write_into_the_package_or_bench(name, args):
    before = _snapshot()
    r = run_bench(name, '--smoke', *args, timeout=60)
    assert r.returncode == 2 and '--smoke writes nothing into vae_mnist/ or bench/' in r.stderr, tail(r.stderr)
    assert _snapshot() == before


def test_the_readme_table_is_made_from_the_results_files():
    "The README's backend table: one per results file, each column's fastest in bold and the rest as a multiple of it."
    import importlib.util
    spec = importlib.util.spec_from_file_location('bench_backends', REPO/'bench'/'backends.py')
    bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench)
    table = bench.fastest_table([REPO/'bench'/'backends.json'])
    res = json.loads((REPO/'bench'/'backends.json').read_text())
    rows = [l for l in table.splitlines() if l.startswith('| ') and not l.startswith('| |')]
    assert len(rows) == len([r for r in res['backends'] if 'error' not in r and 'compile' not in r['backend']]) >= 3, table
    for k, (key, _) in enumerate(bench.COLUMNS[:5], 1):  # every figure is in the file; one bold per column
        cells = [r.split(' | ')[k] for r in rows]
        assert sum(c.startswith('**') for c in cells) == 1, (key, cells)
    fastest = min(res['backends'][:3], key=lambda r: r['seed']['epoch_s'])
    assert f"**{fastest['seed']['epoch_s']:.3g} s**" in table


def test_few_labels_curve_redo_measures_an_n_again(tmp_path):
    "--redo N: the finished SSVAE runs of that n are measured again with today's recipe (and record it); real_only is reused."
    args = ['--smoke', '--out', str(tmp_path/'u.json'), '--work', str(tmp_path/'w')]
    first = run_bench('few_labels_curve', *args)
    assert first.returncode == 0, tail(first.stderr)
    again = run_bench('few_labels_curve', *args)  # finished: nothing new is measured
    assert again.returncode == 0 and not json_lines(again.stdout), tail(again.stdout)
    redo = run_bench('few_labels_curve', *args, '--redo', '20')
    assert redo.returncode == 0, tail(redo.stderr)
    [old], [new] = json_lines(first.stdout), json_lines(redo.stdout)
    res = json.loads((tmp_path/'u.json').read_text())
    assert [r['draw'] for r in res['runs']] == [0] and res['runs'][0] == new and new['real_only'] == old['real_only']
    assert new['align'] is False is res['rows'][0]['align']  # the recipe's distribution alignment (SSVAEConfig().align), recorded
