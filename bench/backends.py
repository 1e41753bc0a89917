"""Every Keras backend on this machine, in one run: training epochs and generation, as ratios to the seed as written.

    python bench/backends.py                                   # tensorflow, jax and torch; ~15 minutes on 2 cores
    python bench/backends.py --json bench/backends.json        # the figures the Training page shows (committed)
    python bench/backends.py --backends jax,torch --n 2048     # a quicker look
    python bench/backends.py --smoke                           # the active backend only (KERAS_BACKEND, default tensorflow), tiny sizes

One worker process per backend (`KERAS_BACKEND` is read once, when Keras is imported), one after the other, then the
baseline: the seed notebook's own code (tf-keras, `bench/seed_reference.py`) on the same images. Each worker:
- trains the `seed`, `cvae` and `digits` presets through `train` on the first `--n` training images (validating on
  1,000 test images) for `--epochs` epochs; an epoch's seconds are the median of the epochs after the first (the
  first one compiles, and is reported apart);
- trains M2 of the semi-supervised recipe (`SSVAEConfig()`, its CNN classifier; 100 labels) on the codes of the
  bundled ssvae-100's M1, `--m2-steps` steps an epoch, the same way;
- (not `torch-compile`, the presets only, with the engine's steps through `torch.compile`)
  writes 100,000 digits of the default generator (`digits`, its fitted sampler) to npz with `write_generated`, and
  100,000 of the MLP `cvae` (after a 10,000-digit warm-up of each).
Every epoch time is also given as a ratio to the seed as written (its median epoch on the same images, same run):
the lower the better. A backend that is not installed is reported as such. The machine is named in the output.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import SMOKE as SEED_SMOKE, run_seed, smoke_guard, worker_env  # noqa: E402

PRESETS = ('seed', 'cvae', 'digits')
# `--smoke`: the same code on a tiny size, on the active backend only (unless --backends names others); M2 on --n images
SMOKE = dict(n=256, n_val=256, epochs=2, m2_steps=5, n_generate=500, n_warm=200)


def _epochs(history) -> dict:
    s = [h['seconds'] for h in history]
    return dict(epoch_s=round(statistics.median(s[1:] or s), 4), first_epoch_s=round(s[0], 3), epochs=len(s))


def _worker(n: int, epochs: int, m2_steps: int, n_generate: int, compiled: bool = False,
            n_val: int = 1000, n_warm: int = 10_000, m2_all: bool = True) -> dict:
    """Runs in a fresh process under one backend; returns what it measured. `compiled`: torch.compile the steps (presets only).
    `n_val`: test images validating the presets; `n_warm`: digits of the generation warm-up; `m2_all`: M2 on every training
    image (else on the first `n`)."""
    t0 = time.perf_counter()
    import keras
    if compiled:  # the engine's other compile mode under PyTorch, which `jit_compile` does not pick (see the Engine)
        import vae_mnist.train
        vae_mnist.train.jit_compile = lambda dense: True
    from vae_mnist.data import load_mnist
    from vae_mnist.engine import backend, has_gpu
    from vae_mnist.generate import DEFAULT_MODEL, load_generator, write_generated
    from vae_mnist.model import get_config
    from vae_mnist.semisupervised import SSVAEConfig, train_ssvae
    from vae_mnist.train import train
    out = dict(backend=backend() + (' + torch.compile' if compiled else ''), keras=keras.__version__, gpu=has_gpu(), import_s=round(time.perf_counter() - t0, 2))
    lib = {'tensorflow': 'tensorflow', 'jax': 'jax', 'torch': 'torch'}[backend()]
    out['library'] = f"{lib} {__import__(lib).__version__}"
    (x, y), (xt, yt) = load_mnist()
    data = ((x[:n], y[:n]), (xt[:n_val], yt[:n_val]))
    with tempfile.TemporaryDirectory() as tmp:
        for preset in PRESETS:
            _, history = train(get_config(preset), data, Path(tmp)/preset, epochs=epochs, verbose=0)
            out[preset] = dict(_epochs(history), val_loss=round(history[-1]['val_loss'], 3))
        if compiled: return out
        m1 = load_generator('ssvae-100').m1
        config = SSVAEConfig(steps=epochs * m2_steps, steps_per_epoch=m2_steps)
        _, history = train_ssvae(config, *((x, y) if m2_all else (x[:n], y[:n])), Path(tmp)/'m2', m1=m1, verbose=0)
        out['m2'] = dict(_epochs(history), steps_per_epoch=m2_steps, loss=round(history[-1]['loss'], 3))
        for name in (DEFAULT_MODEL, 'cvae'):
            model = load_generator(name)
            write_generated(model, n_warm, Path(tmp)/'warm.npz', seed=1, force=True)
            t = time.perf_counter()
            write_generated(model, n_generate, Path(tmp)/f'{name}.npz', seed=0)
            out[f'generate_{name}'] = dict(n=n_generate, seconds=round(time.perf_counter() - t, 3))
    return out


def run_backend(name: str, args) -> dict:
    "One backend's worker in a fresh process; its JSON, or why it could not run."
    cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', '--n', str(args.n), '--epochs', str(args.epochs),
           '--m2-steps', str(args.m2_steps), '--n-generate', str(args.n_generate)] + (['--compiled'] if name == 'torch-compile' else []) \
        + (['--smoke'] if args.smoke else [])
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=worker_env(KERAS_BACKEND=name.split('-')[0]), cwd=REPO, capture_output=True, text=True)
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ['?'])[-1]
        return dict(backend=name, error=tail[:300])
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res['wall_s'] = round(time.perf_counter() - t0, 1)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--backends', default=None, help="comma-separated (default: tensorflow,jax,torch,torch-compile; with "
                    "--smoke, the active one); torch-compile: PyTorch with torch.compile'd steps (the presets only)")
    ap.add_argument('--n', type=int, default=4096, help='training images per epoch')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--m2-steps', type=int, default=100, help="M2's optimizer steps per epoch")
    ap.add_argument('--n-generate', type=int, default=100_000)
    ap.add_argument('--json', type=Path, help='also write the results here')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    ap.add_argument('--compiled', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.smoke:
        args.n, args.epochs, args.m2_steps, args.n_generate = (SMOKE[k] for k in ('n', 'epochs', 'm2_steps', 'n_generate'))
    if args.worker:
        small = dict(n_val=SMOKE['n_val'], n_warm=SMOKE['n_warm'], m2_all=False) if args.smoke else {}
        print(json.dumps(_worker(args.n, args.epochs, args.m2_steps, args.n_generate, args.compiled, **small))); return
    if args.smoke: smoke_guard(ap, args.json)
    if args.backends is None:
        args.backends = os.environ.get('KERAS_BACKEND', 'tensorflow') if args.smoke else 'tensorflow,jax,torch,torch-compile'
    rows = []
    for name in args.backends.split(','):
        print(f"{name} ...", file=sys.stderr, flush=True)
        rows.append(run_backend(name, args))
    print("the seed as written (tf-keras) ...", file=sys.stderr, flush=True)
    seed = run_seed(epochs=args.epochs, n_train=args.n, n_test=SEED_SMOKE['n_test'] if args.smoke else None)
    base = seed['epoch_s']
    for r in rows:
        for k in (*PRESETS, 'm2'):
            if k in r: r[k]['vs_seed_as_written'] = round(r[k]['epoch_s'] / base, 3)
        if 'generate_cvae' in r and 'generate_digits' in r:
            r['generate_digits_vs_cvae'] = round(r['generate_digits']['seconds'] / r['generate_cvae']['seconds'], 2)
    res = dict(machine=f"{platform.machine()}, {os.cpu_count()} CPUs ({platform.processor() or platform.platform()})",
               date=time.strftime('%Y-%m-%d'), command=' '.join(['python', 'bench/backends.py', *(argv or sys.argv[1:])]),
               n_train=args.n, epochs=args.epochs, seed_as_written=dict(epoch_s=round(base, 4), epoch_times=seed.get('epoch_times')),
               backends=rows)
    print(json.dumps(res, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1) + '\n')


if __name__ == '__main__':
    main()
