"Backends (nbs/01a_backends.ipynb): the `vae-mnist` command runs on what is installed; a library import that cannot is one line."
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HIDER = REPO/'tests'/'no_tensorflow'  # hides TensorFlow, and HIDE_MODULES more, from every process started with it


def run(code_or_cli, tmp_path, hide='', **env):
    "A fresh Python on a machine without TensorFlow (and `hide`), `KERAS_BACKEND` unset unless given, Keras's home empty."
    e = {k: v for k, v in os.environ.items() if k not in ('KERAS_BACKEND', 'TF_CPP_MIN_LOG_LEVEL')}
    e.update(PYTHONPATH=f"{HIDER}{os.pathsep}{REPO}", HIDE_MODULES=hide, KERAS_HOME=str(tmp_path/'keras-home'), **env)
    cmd = ([sys.executable, '-c', 'import sys; from vae_mnist.cli import main; sys.exit(main())', *code_or_cli]
           if isinstance(code_or_cli, list) else [sys.executable, '-c', code_or_cli])
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=e, timeout=600)


def one_line(r) -> str:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and 'Traceback' not in r.stderr and r.stdout == '', (r.returncode, r.stderr)
    return lines[0]


def test_the_command_runs_on_what_is_installed_and_says_why(tmp_path):
    "KERAS_BACKEND unset, Keras at its default (TensorFlow), TensorFlow absent: JAX runs, and `info` says why."
    r = run(['info', '--json'], tmp_path)
    assert r.returncode == 0, r.stderr
    said = json.loads(r.stdout)['backend']
    assert said.startswith('jax (CPU): Keras is configured for tensorflow') and 'not installed' in said, said
    r = run(['info', '--json'], tmp_path, hide='jax')  # keras.json (written by Keras on the first run) still says tensorflow
    assert r.returncode == 0 and json.loads(r.stdout)['backend'].startswith('torch (CPU)'), r.stderr


def test_a_configured_backend_that_is_installed_is_kept(tmp_path):
    home = tmp_path/'keras-home'
    home.mkdir()
    (home/'keras.json').write_text(json.dumps({'backend': 'torch'}))
    r = run(['info', '--json'], tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)['backend'].startswith(f"torch (CPU): Keras's configured backend ({home/'keras.json'})")


def test_no_backend_or_a_missing_explicit_one_is_one_line(tmp_path):
    line = one_line(run(['info'], tmp_path, hide='jax,torch'))
    assert 'none of tensorflow, jax, torch is' in line and 'pip install' in line, line
    line = one_line(run(['generate', '-n', '5', '--out', 'x.npz'], tmp_path, hide='jax', KERAS_BACKEND='jax'))
    assert line.startswith('vae-mnist: error: Keras is configured for jax (KERAS_BACKEND)') and 'installed: torch' in line, line
    assert not (tmp_path/'x.npz').exists()  # an explicit choice is obeyed or refused, never quietly swapped


def test_the_library_does_not_choose_but_fails_in_one_line(tmp_path):
    r = run('import vae_mnist.model', tmp_path, hide='torch')
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 1 and last == ("vae_mnist.backends.BackendError: Keras is configured for tensorflow (Keras's default), which "
                                          "is not installed; installed: jax: set KERAS_BACKEND=jax (or another installed one) to use it"), r.stderr
    r = run('import vae_mnist.model, keras; print(keras.backend.backend())', tmp_path, hide='torch', KERAS_BACKEND='jax')
    assert r.returncode == 0 and r.stdout.strip() == 'jax', r.stderr
