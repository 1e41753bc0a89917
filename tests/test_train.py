"Training: loss goes down on real data, checkpoints, resume after a real kill equals an uninterrupted run, NaN safety."
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from vae_mnist.model import get_config
from vae_mnist.engine import epoch_order
from vae_mnist.train import TrainingError, load_checkpoint, train

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def data(mnist_train, mnist_test):
    (x, y), (xt, yt) = mnist_train, mnist_test
    return (x[:2000], y[:2000]), (xt[:500], yt[:500])


@pytest.mark.parametrize('name', ['seed', 'mlp', 'conv', 'cvae'])
def test_short_real_run_lowers_the_loss(name, data, tmp_path):
    c = get_config(name, batch_size=32)
    model, history = train(c, data, tmp_path, epochs=3, verbose=0)
    assert [h['epoch'] for h in history] == [1, 2, 3]
    assert history[-1]['loss'] < history[0]['loss'] and history[-1]['val_loss'] < history[0]['val_loss']
    saved = json.loads((tmp_path/'history.json').read_text())
    assert saved == history
    assert (tmp_path/'history.csv').read_text().splitlines()[0].startswith('epoch,')
    assert not list(tmp_path.glob('.tmp-*')), "temporary files left behind"
    assert keras.saving.load_model(tmp_path/'model.keras').config == c


def test_seeded_runs_are_reproducible(data, tmp_path):
    a, _ = train('seed', data, tmp_path/'a', epochs=2, verbose=0)
    b, _ = train('seed', data, tmp_path/'b', epochs=2, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()): np.testing.assert_array_equal(wa, wb)
    c, _ = train(get_config('seed', seed=1), data, tmp_path/'c', epochs=2, verbose=0)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_epoch_order_depends_only_on_seed_and_epoch():
    full = [epoch_order(100, 16, seed=3, epoch=e) for e in range(4)]
    np.testing.assert_array_equal(full[2:], [epoch_order(100, 16, seed=3, epoch=e) for e in (2, 3)])  # from (seed, epoch) alone
    assert full[0].shape == (6, 16) and len(np.unique(full[0])) == 96
    assert not np.array_equal(full[0], full[1])
    with pytest.raises(ValueError, match='at least one full batch'): epoch_order(5, 16, 0, 0)


_KILLABLE = """
import sys, numpy as np
from vae_mnist.data import read_idx
from vae_mnist.train import train
d = sys.argv[1]
x, y = read_idx(d + '/train-images-idx3-ubyte.gz')[:2000], read_idx(d + '/train-labels-idx1-ubyte.gz')[:2000]
xt, yt = read_idx(d + '/t10k-images-idx3-ubyte.gz')[:500], read_idx(d + '/t10k-labels-idx1-ubyte.gz')[:500]
train('seed', ((x, y), (xt, yt)), sys.argv[2], epochs=int(sys.argv[3]), verbose=0)
"""


def test_resume_after_kill_equals_uninterrupted(data, mnist_dir, tmp_path):
    "Kill a training process (SIGKILL) after its 2nd checkpoint, resume in-process: same weights as a clean run."
    epochs = 6
    clean, _ = train('seed', data, tmp_path/'clean', epochs=epochs, verbose=0)
    out = tmp_path/'killed'
    env = {**os.environ, 'PYTHONPATH': str(REPO), 'TF_CPP_MIN_LOG_LEVEL': '3'}
    p = subprocess.Popen([sys.executable, '-c', _KILLABLE, str(mnist_dir), str(out), str(epochs)], env=env)
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        h = out/'history.json'
        if h.exists() and len(json.loads(h.read_text())) >= 2: break
        time.sleep(0.02)
    assert p.poll() is None, "the training process ended before it could be killed"
    p.send_signal(signal.SIGKILL); p.wait()
    done = len(json.loads((out/'history.json').read_text()))
    assert 2 <= done < epochs
    resumed, history = train('seed', data, out, epochs=epochs, verbose=0)
    assert [h['epoch'] for h in history] == list(range(1, epochs + 1))
    for a, b in zip(clean.get_weights(), resumed.get_weights()): np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_trained_model_fits_ordinary_batches_too(data, tmp_path):
    # train() runs the engine's compiled epochs; Keras's own fit on plain batches still works on the result
    model, _ = train('seed', data, tmp_path, epochs=1, verbose=0)
    x = data[0][0][:64].reshape(64, 784).astype('float32') / 255
    before = model.get_weights()[0].copy()
    h = model.fit(x, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(h.history['loss'][0]) and not np.array_equal(before, model.get_weights()[0])


def test_finished_run_can_be_extended(data, tmp_path):
    train('seed', data, tmp_path, epochs=2, verbose=0)
    _, history = train('seed', data, tmp_path, epochs=3, verbose=0)
    assert len(history) == 3


def test_nan_loss_stops_and_keeps_last_good_checkpoint(data, tmp_path):
    class Poison(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1: self.model.set_weights([w * np.nan for w in self.model.get_weights()])
    with pytest.raises(TrainingError, match=r'loss became nan in epoch 3.*the last good checkpoint \(epoch 2\) is kept'):
        train('seed', data, tmp_path, epochs=5, verbose=0, callbacks=[Poison()])
    assert len(json.loads((tmp_path/'history.json').read_text())) == 2
    w = load_checkpoint(tmp_path).get_weights()
    assert all(np.isfinite(a).all() for a in w)


def test_nan_data_fails_clearly(data, tmp_path):
    (x, y), val = data
    x = x.astype('float32') / 255; x[0, 0, 0] = np.nan
    with pytest.raises(TrainingError, match='loss became nan in epoch 1; training stopped and no checkpoint was written'):
        train('seed', ((x, y), val), tmp_path, epochs=2, verbose=0)


def test_different_config_is_refused(data, tmp_path):
    train('seed', data, tmp_path, epochs=1, verbose=0)
    with pytest.raises(TrainingError, match='different config'):
        train(get_config('seed', latent_dim=3), data, tmp_path, epochs=1, verbose=0)
    _, h = train(get_config('seed', latent_dim=3), data, tmp_path, epochs=1, verbose=0, resume=False)
    assert len(h) == 1


def test_checkpoint_carries_its_own_history(data, tmp_path):
    "A run killed after writing checkpoint.npz but before history.json resumes from the checkpoint's own history."
    clean, _ = train('seed', data, tmp_path/'clean', epochs=3, verbose=0)
    out = tmp_path/'cut'
    train('seed', data, out, epochs=2, verbose=0)
    (out/'history.json').write_text(json.dumps(json.loads((out/'history.json').read_text())[:1]))  # stale, as after a kill
    resumed, history = train('seed', data, out, epochs=3, verbose=0)
    assert [h['epoch'] for h in history] == [1, 2, 3]
    for a, b in zip(clean.get_weights(), resumed.get_weights()): np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_damaged_run_folder_is_named_not_replaced(data, tmp_path):
    train('seed', data, tmp_path, epochs=1, verbose=0)
    good = (tmp_path/'checkpoint.npz').read_bytes()
    (tmp_path/'checkpoint.npz').write_bytes(good[:len(good) // 2])
    with pytest.raises(TrainingError, match=r'checkpoint\.npz: not a readable checkpoint'):
        train('seed', data, tmp_path, epochs=2, verbose=0)
    assert (tmp_path/'checkpoint.npz').read_bytes() == good[:len(good) // 2], "the damaged checkpoint was overwritten"
    (tmp_path/'config.json').write_text('{not json')
    with pytest.raises(TrainingError, match=r'config\.json: not a readable config'):
        train('seed', data, tmp_path, epochs=2, verbose=0)
    with pytest.raises(TrainingError, match='no checkpoint.npz'): load_checkpoint(tmp_path/'nothing-here')
