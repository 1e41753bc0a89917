"""Put this folder on PYTHONPATH and every Python process started so behaves as if TensorFlow were not installed.

`make backends` runs the core tests this way under JAX and PyTorch: `import tensorflow` anywhere (ours, or a
library's) raises ModuleNotFoundError and `importlib.util.find_spec('tensorflow')` is None, as on a machine with only
JAX or PyTorch. Child processes (the CLI tests run `vae-mnist` in fresh interpreters) inherit PYTHONPATH, so they are
covered too. `HIDE_MODULES=jax,torch` hides more (tests of the backend choice: a machine with one backend, or none).
"""
import importlib.machinery
import os

BLOCKED = ('tensorflow', 'tf_keras', 'tensorboard', *filter(None, os.environ.get('HIDE_MODULES', '').split(',')))
_find_spec = importlib.machinery.PathFinder.find_spec  # the finder that looks in site-packages


@classmethod
def _hidden(cls, fullname, path=None, target=None):
    return None if fullname.split('.')[0] in BLOCKED else _find_spec(fullname, path, target)


importlib.machinery.PathFinder.find_spec = _hidden
