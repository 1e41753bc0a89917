"A run folder (nbs/05a_runs.ipynb): one lock, config checked or written, resume equal to an unbroken run, NaN stop, the model saved."
import json
from dataclasses import asdict, dataclass

import keras
import numpy as np
import pytest
from keras import ops

from vae_mnist.core import flatten, normalize
from vae_mnist.engine import compile_epoch, epoch_order, set_seed
from vae_mnist.files import RunLock
from vae_mnist.model import PRESETS, VAE, load_model
from vae_mnist.runs import RUN_FILES, TrainingError, read_run_config, run_training


@dataclass
class Cfg:
    latent_dim: int = 2
    epochs: int = 3
    name: str = 'tiny'
    def to_dict(self): return asdict(self)
    @classmethod
    def from_dict(cls, d): return cls(**d)


@pytest.fixture(scope='module')
def xs(mnist_test): return flatten(normalize(mnist_test[0][:64]))


def _run(out, xs, cfg=None, epochs=3, poison=None, **kw):
    "A small dense VAE's run; `poison`: the epoch whose loss becomes NaN."
    def prepare():
        set_seed(0)
        m = VAE(PRESETS['seed']); m.compile(optimizer=keras.optimizers.Adam(1e-3))
        m(xs[:2]); m.optimizer.build(m.trainable_variables)
        def loss(data, rows):
            xb = ops.take(data['images'], rows['batch'], axis=0)
            return m.loss_terms(xb, m(xb, training=True))
        step, data = compile_epoch(m, m.trainable_variables, loss, ('loss', 'reconstruction', 'kl')), {'images': ops.convert_to_tensor(xs)}
        def epoch(e):
            logs = step(data, {'batch': epoch_order(len(xs), 16, 0, e)})
            return {**logs, 'loss': float('nan')} if e == poison else logs
        return m, epoch
    return run_training(out, cfg or Cfg(epochs=epochs), prepare, epochs, verbose=0, **kw)


def test_a_resumed_run_ends_where_an_unbroken_one_does(tmp_path, xs):
    whole, h = _run(tmp_path/'whole', xs, epochs=3)
    _run(tmp_path/'split', xs, epochs=1)
    part, h2 = _run(tmp_path/'split', xs, epochs=3)
    assert [r['epoch'] for r in h2] == [1, 2, 3] and len(h) == 3
    for a, b in zip(whole.get_weights(), part.get_weights()): np.testing.assert_allclose(a, b, atol=1e-6)
    assert sorted(p.name for p in (tmp_path/'split').iterdir()) == sorted(['config.json', *RUN_FILES])
    assert read_run_config(tmp_path/'split', Cfg) == Cfg(epochs=1)  # as the run began: a resume may only go on longer
    for a, b in zip(load_model(tmp_path/'split'/'model.keras').get_weights(), part.get_weights()): np.testing.assert_array_equal(a, b)


def test_a_different_run_is_refused_and_a_fresh_one_clears_the_old(tmp_path, xs):
    _run(tmp_path/'r', xs, epochs=1, files={'labelled.json': {'indices': [1, 2]}}, what='config or label draw')
    with pytest.raises(TrainingError, match=r'holds a run of a different config \(tiny\)'): _run(tmp_path/'r', xs, Cfg(latent_dim=3), 2)
    with pytest.raises(TrainingError, match=r'different config or label draw \(labelled.json differs\)'):
        _run(tmp_path/'r', xs, epochs=2, files={'labelled.json': {'indices': [1, 3]}}, what='config or label draw')
    _, h = _run(tmp_path/'r', xs, Cfg(latent_dim=3), 1, resume=False)  # afresh: the old run is gone, the new config written
    assert len(h) == 1 and json.loads((tmp_path/'r'/'config.json').read_text())['latent_dim'] == 3
    (tmp_path/'r'/'config.json').write_text('{not json')
    with pytest.raises(TrainingError, match=r'config\.json: not a readable config of a run'): _run(tmp_path/'r', xs, Cfg(latent_dim=3), 2)


def test_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path, xs):
    with pytest.raises(TrainingError, match='loss became nan in epoch 3; training stopped and the last good checkpoint '
                                            r'\(epoch 2\) is kept'):
        _run(tmp_path/'n', xs, epochs=4, poison=2)
    assert not (tmp_path/'n'/'model.keras').exists()
    assert [r['epoch'] for r in json.loads((tmp_path/'n'/'history.json').read_text())] == [1, 2]


def test_one_run_per_folder_and_not_into_a_file(tmp_path, xs):
    (tmp_path/'f').write_text('x')
    with pytest.raises(TrainingError, match='is a file, not a folder for the run'): _run(tmp_path/'f', xs, epochs=1)
    with RunLock(tmp_path/'busy', tmp_path/'busy'/'.lock'):
        with pytest.raises(OSError, match='another vae-mnist run'): _run(tmp_path/'busy', xs, epochs=1)
