"""Put this folder on PYTHONPATH and every Python process started so behaves as if TensorFlow were not installed.

`make backends` runs the core tests this way under JAX and PyTorch: an `import tensorflow` anywhere (ours, or a
library's) raises ModuleNotFoundError, as it would on a machine with only JAX or PyTorch. Child processes (the CLI
tests run `vae-mnist` in fresh interpreters) inherit PYTHONPATH, so they are covered too.
"""
import importlib.abc
import sys


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    BLOCKED = ('tensorflow', 'tf_keras', 'tensorboard')

    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in self.BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (refused: tests/no_tensorflow is on PYTHONPATH)", name=name)
        return None


sys.meta_path.insert(0, _NoTensorFlow())
