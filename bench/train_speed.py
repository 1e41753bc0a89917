"""Training speed: the `seed` preset against the seed notebook as written, in one run, on the same data.

Both sides train in fresh processes, one after the other: the seed's Keras-2 code under tf-keras
(`bench/seed_reference.py`), then `vae_mnist.train.train(get_config('seed'), ...)`. Same data (the training
images the loader finds, validated on the 10,000 test images), batch 16, 25 epochs, Adam 1e-3.

Timed on each side: the seed's `fit` call; our whole `train()` call, which also compiles, checkpoints every
epoch and writes the history (interpreter start and imports are outside both). The seed's `fit` sometimes
stalls for ~40 s outside its epochs (seen in 2 of 3 runs on one day, in none on another; the process sleeps),
so the ratios are also printed against the sum of the seed's epoch times, which such a stall cannot inflate. Quality: the test loss, the
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


def _time_to(o, target):
    "(epoch, seconds since train() began) when our run's test loss first reached `target`, or None."
    hit = next((i for i, v in enumerate(o['val_loss']) if v <= target), None)
    return None if hit is None else (hit + 1, o['epoch_end_s'][hit])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=25)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--seeds', type=int, default=1, help="train the seed with this many random seeds, to see its seed-to-seed spread")
    ap.add_argument('--dataset', default='mnist', choices=['mnist', 'fashion_mnist'])
    ap.add_argument('--preset', default='seed')
    ap.add_argument('--json', help='also write all figures to this file')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker: return _worker(a.epochs, a.seed, a.dataset, a.preset)
    print(f"training {a.epochs} epochs of the seed (tf-keras, {a.seeds} random seed(s)) and of preset {a.preset!r} "
          f"on {a.dataset}, batch 16 ...", flush=True)
    seeds = [run_seed(epochs=a.epochs, seed=a.seed + i, dataset=a.dataset) for i in range(a.seeds)]
    s = seeds[0]
    o = run_ours(epochs=a.epochs, seed=a.seed, dataset=a.dataset, preset=a.preset)
    print(f"\n{'':34}{'seed as written':>18}{'ours':>12}{'ratio':>10}")
    row = lambda name, sv, ov, fmt='.2f': print(f"{name:34}{sv:>18{fmt}}{ov:>12{fmt}}{ov / sv:>10.3f}")
    print(f"{'training images':34}{s['n_train']:>18}{o['n_train']:>12}")
    row('wall seconds, all epochs', s['fit_s'], o['train_s'])
    row('seconds per epoch (median)', s['epoch_s'], o['epoch_s'], '.3f')
    row('test loss, as each reports it', s['test_loss'], o['test_loss'])
    row('test loss, true KL (neg. ELBO)', s['test_loss_true'], o['test_loss'])
    print(f"{'  reconstruction / KL':34}{s['test_recon']:>10.2f} / {s['test_kl_true']:<5.2f}{o['test_recon']:>6.2f} / {o['test_kl']:<5.2f}")
    true = [r['test_loss_true'] for r in seeds]
    if len(seeds) > 1:
        print(f"seed's true test loss over {len(seeds)} random seeds: {', '.join(f'{v:.2f}' for v in true)} "
              f"(mean {statistics.mean(true):.2f}); wall seconds {', '.join(format(r['fit_s'], '.1f') for r in seeds)}")
    targets = [("the seed's true test loss", s['test_loss_true'])]
    if len(seeds) > 1: targets += [("the worst of its seeds (seed-to-seed noise)", max(true))]
    for name, target in targets:
        hit = _time_to(o, target)
        if hit is None: print(f"\nours never reached {name}, {target:.2f}, in {a.epochs} epochs")
        else: print(f"\nours reached {name}, {target:.2f}, after epoch {hit[0]}, at {hit[1]:.2f} s: "
                    f"{hit[1] / s['fit_s']:.3f} of the seed's wall time (1/{s['fit_s'] / hit[1]:.1f})")
    print(f"all {a.epochs} epochs: ours takes {o['train_s'] / s['fit_s']:.3f} of the seed's wall time (1/{s['fit_s'] / o['train_s']:.1f})")
    # The seed's `fit` has been seen to stall for ~40 s outside its epochs in some runs (the process sleeps; its
    # epochs don't slow down). Against the sum of its epoch times alone the comparison cannot flatter us:
    epochs_s = sum(s['epoch_times'])
    hit = _time_to(o, s['test_loss_true'])
    print(f"\nthe seed's epochs alone took {epochs_s:.2f} s (its fit: {s['fit_s']:.2f} s); against that: all epochs "
          f"1/{epochs_s / o['train_s']:.1f}" + (f", to the seed's true test loss 1/{epochs_s / hit[1]:.1f}" if hit else ""))
    if a.json: Path(a.json).parent.mkdir(parents=True, exist_ok=True); Path(a.json).write_text(json.dumps(dict(seed=seeds, ours=o), indent=1))


if __name__ == '__main__':
    main()
