"""Put this folder on PYTHONPATH and every Python process started so behaves as if TensorFlow were not installed.

`make backends` runs the core tests this way under JAX and PyTorch: `import tensorflow` anywhere (ours, or a
library's) raises ModuleNotFoundError and `importlib.util.find_spec('tensorflow')` is None, as on a machine with only
JAX or PyTorch. Child processes (the CLI tests run `vae-mnist` in fresh interpreters) inherit PYTHONPATH, so they are
covered too.
"""
import importlib.machinery

BLOCKED = ('tensorflow', 'tf_keras', 'tensorboard')
_find_spec = importlib.machinery.PathFinder.find_spec  # the finder that looks in site-packages


@classmethod
def _hidden(cls, fullname, path=None, target=None):
    return None if fullname.split('.')[0] in BLOCKED else _find_spec(fullname, path, target)


importlib.machinery.PathFinder.find_spec = _hidden
