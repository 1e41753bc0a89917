"""Training speed: the `seed` preset against the seed notebook as written, in one run, on the same data.

Both sides train in fresh processes, one after the other: the seed's Keras-2 code under tf-keras
(`bench/seed_reference.py`), then `vae_mnist.train.train(get_config('seed'), ...)`. Same data (the training
images the loader finds, validated on the 10,000 test images), batch 16, 25 epochs, Adam 1e-3.

Timed on each side: the seed's `fit` call; our whole `train()` call, which also compiles, checkpoints every
epoch and writes the history (interpreter start and imports are outside both). Quality: the test loss, the
mean over the test images of 784*MSE + KL with a sampled z. The seed's own KL term reads log(sigma) as a
log-variance, which under-counts the KL of the distribution it really samples from; both its reported and
its true loss are printed, and "time to the seed's loss" uses the true one (the negative ELBO, the quantity
our preset reports).

    python bench/train_speed.py                          # MNIST (the offline 22,699 here): ~2 minutes
    python bench/train_speed.py --dataset fashion_mnist --epochs 2   # seconds per epoch on 60,000 images
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import SHARED_MNIST, run_seed  # noqa: E402


def run_ours(epochs=25, seed=0, dataset='mnist', preset='seed') -> dict:
    "Train our preset in a fresh process; its timings and history as a dict."
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    if dataset == 'mnist' and 'VAE_MNIST_DATA' not in env and (SHARED_MNIST/'t10k-images-idx3-ubyte.gz').exists():
        env['VAE_MNIST_DATA'] = str(SHARED_MNIST)
    cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', '--epochs', str(epochs), '--seed', str(seed),
           '--dataset', dataset, '--preset', preset]
    p = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if p.returncode != 0: raise RuntimeError(f"worker failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _worker(epochs, seed, dataset, preset):
    "Our side: `train()` timed as a whole, plus when each epoch ended. Prints one JSON line."
    import keras
    from vae_mnist.data import load_mnist
    from vae_mnist.model import get_config
    from vae_mnist.train import train
    data = load_mnist(dataset=dataset)
    ends = []
    class EpochEnds(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None): ends.append(time.perf_counter())
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        _, history = train(get_config(preset, seed=seed), data, out, epochs=epochs, verbose=0, callbacks=[EpochEnds()])
        train_s = time.perf_counter() - t0
    print(json.dumps(dict(train_s=train_s, epoch_end_s=[e - t0 for e in ends], n_train=len(data[0][0]),
                          epoch_s=statistics.median(h['seconds'] for h in history[1:] or history),
                          first_epoch_s=history[0]['seconds'], val_loss=[h['val_loss'] for h in history],
                          test_loss=history[-1]['val_loss'], test_recon=history[-1]['val_reconstruction'],
                          test_kl=history[-1]['val_kl'], versions=dict(keras=keras.__version__))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=25)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--dataset', default='mnist', choices=['mnist', 'fashion_mnist'])
    ap.add_argument('--preset', default='seed')
    ap.add_argument('--json', help='also write all figures to this file')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker: return _worker(a.epochs, a.seed, a.dataset, a.preset)
    print(f"training {a.epochs} epochs of the seed (tf-keras) and of preset {a.preset!r} on {a.dataset}, batch 16 ...", flush=True)
    s = run_seed(epochs=a.epochs, seed=a.seed, dataset=a.dataset)
    o = run_ours(epochs=a.epochs, seed=a.seed, dataset=a.dataset, preset=a.preset)
    print(f"\n{'':34}{'seed as written':>18}{'ours':>12}{'ratio':>10}")
    row = lambda name, sv, ov, fmt='.2f': print(f"{name:34}{sv:>18{fmt}}{ov:>12{fmt}}{ov / sv:>10.3f}")
    print(f"{'training images':34}{s['n_train']:>18}{o['n_train']:>12}")
    row('wall seconds, all epochs', s['fit_s'], o['train_s'])
    row('seconds per epoch (median)', s['epoch_s'], o['epoch_s'], '.3f')
    row('test loss, as each reports it', s['test_loss'], o['test_loss'])
    row('test loss, true KL (neg. ELBO)', s['test_loss_true'], o['test_loss'])
    print(f"{'  reconstruction / KL':34}{s['test_recon']:>10.2f} / {s['test_kl_true']:<5.2f}{o['test_recon']:>6.2f} / {o['test_kl']:<5.2f}")
    target = s['test_loss_true']
    hit = next((i for i, v in enumerate(o['val_loss']) if v <= target), None)
    if hit is None: print(f"\nours never reached the seed's true test loss {target:.2f} in {a.epochs} epochs")
    else:
        t = o['epoch_end_s'][hit]
        print(f"\nours reached the seed's true test loss {target:.2f} after epoch {hit + 1}, at {t:.2f} s: "
              f"{t / s['fit_s']:.3f} of the seed's wall time (1/{s['fit_s'] / t:.1f})")
    print(f"all {a.epochs} epochs: ours takes {o['train_s'] / s['fit_s']:.3f} of the seed's wall time (1/{s['fit_s'] / o['train_s']:.1f})")
    if a.json: Path(a.json).parent.mkdir(parents=True, exist_ok=True); Path(a.json).write_text(json.dumps(dict(seed=s, ours=o), indent=1))


if __name__ == '__main__':
    main()
