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
- runs the `vae-mnist train --preset digits` command itself (`--train-epochs` epochs on the first `--n` images) in a
  fresh process, and splits its wall time: the import and backend start (a fresh process that does only that), the
  epochs (their own seconds), and the rest ("outside"), itemized: reading the data, the checkpoints, fitting the
  sampler, saving the model;
- (not `torch-compile`, the presets only, with the engine's steps through `torch.compile`)
  writes 100,000 digits of the default generator (`digits`, its fitted sampler) to npz with `write_generated`, and
  100,000 of the MLP `cvae` (after a 10,000-digit warm-up of each).
Every epoch time is also given as a ratio to the seed as written (its median epoch on the same images, same run):
the lower the better. A backend that is not installed is reported as such. The machine is named in the output, its GPU too (a worker
reports the device its backend computes on). On a GPU machine, run the same command with `--json bench/backends-gpu.json`:
the README's table reads every `bench/backends*.json`.
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
SMOKE = dict(n=256, n_val=256, epochs=2, m2_steps=5, n_generate=500, n_warm=200, train_epochs=1)
PARTS = {'data': ('vae_mnist.cli', '_data'), 'checkpoints': ('vae_mnist.runs', 'save_checkpoint'),
         'sampler_fit': ('vae_mnist.sampler', 'fit_latent_density'), 'model_save': ('vae_mnist.runs', 'save_model')}


def _timed_cli(argv: list[str], parts_json: str):
    "Run `vae-mnist ARGV` here, timing the functions `PARTS` names (their seconds summed) into `parts_json`."
    import importlib
    spent = dict.fromkeys(PARTS, 0.0)
    for part, (mod, fn) in PARTS.items():
        m = importlib.import_module(mod)
        def timed(*a, _f=getattr(m, fn), _part=part, **k):
            t = time.perf_counter()
            try: return _f(*a, **k)
            finally: spent[_part] += time.perf_counter() - t
        setattr(m, fn, timed)
    from vae_mnist.cli import main
    try: main(argv)
    finally: Path(parts_json).write_text(json.dumps(spent))


def train_command(backend: str, n: int, epochs: int) -> dict:
    "The `train --preset digits` command's wall time on `backend`, split into the import, its epochs and the rest."
    env = worker_env(KERAS_BACKEND=backend)
    t = time.perf_counter()
    subprocess.run([sys.executable, '-c', 'from vae_mnist.cli import _quiet_start; _quiet_start()'], env=env, cwd=REPO, check=True)
    start = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        argv = ['train', '--preset', 'digits', '--epochs', str(epochs), '--n-train', str(n), '--out', f'{tmp}/run']
        t = time.perf_counter()
        p = subprocess.run([sys.executable, str(Path(__file__).resolve()), '--timed-cli', f'{tmp}/parts.json', *argv],
                           env=env, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if p.returncode != 0: return dict(error=(p.stderr.strip().splitlines() or ['?'])[-1][:300])
        history = json.loads(Path(f'{tmp}/run/history.json').read_text())
        parts = json.loads(Path(f'{tmp}/parts.json').read_text())
    epochs_s = sum(h['seconds'] for h in history)
    outside = wall - start - epochs_s
    return dict(command='vae-mnist ' + ' '.join(argv[:-1] + ['OUT']), wall_s=round(wall, 2),
                import_s=round(start, 2), epochs_s=round(epochs_s, 2), outside_s=round(outside, 2),
                outside={**{k: round(v, 2) for k, v in parts.items()}, 'other': round(outside - sum(parts.values()), 2)})


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
    out['device'] = _device(lib)
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


def _device(lib: str) -> str:
    "What the backend computes on, by name (the GPU's model where there is one)."
    if lib == 'jax':
        import jax
        d = jax.devices()[0]
        return 'cpu' if d.platform == 'cpu' else f"{d.platform}: {getattr(d, 'device_kind', d)}"
    if lib == 'torch':
        import torch
        return f"cuda: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else 'cpu'
    import tensorflow as tf
    gpus = tf.config.list_logical_devices('GPU')
    return f"gpu: {gpus[0].name}" if gpus else 'cpu'


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
    if name != 'torch-compile' and args.train_epochs: res['train_command'] = train_command(name, args.n, args.train_epochs)
    return res


COLUMNS = (('seed', 'seed epoch'), ('cvae', 'cvae epoch'), ('digits', 'digits epoch'), ('m2', 'M2 epoch'),
           ('generate_digits', '100,000 digits'), ('train_command', '`train` outside its epochs'))


def _seconds(r: dict, key: str):
    v = r.get(key) or {}
    return v.get('epoch_s', v.get('seconds', v.get('outside_s')))


def fastest_table(paths) -> str:
    "Markdown: for each results file (a machine), each backend's seconds, the fastest in bold and the others as a multiple of it."
    out = []
    for path in paths:
        res = json.loads(Path(path).read_text())
        rows = [r for r in res['backends'] if 'error' not in r and 'compile' not in r['backend']]
        device = ', '.join(sorted({r.get('device', 'gpu' if r.get('gpu') else 'cpu') for r in rows}))
        out.append(f"**{res['machine']}** ({device}; {res['date']}; `{res['command']}`; epochs of {res['n_train']:,} images, "
                   f"the median after the first; the `train` command: {res.get('train_command_note', 'digits preset')})\n")
        out.append('| | ' + ' | '.join(name for _, name in COLUMNS) + ' |')
        out.append('|---' * (len(COLUMNS) + 1) + '|')
        best = {k: min((_seconds(r, k) for r in rows if _seconds(r, k) is not None), default=None) for k, _ in COLUMNS}
        for r in rows:
            cells = []
            for k, _ in COLUMNS:
                v = _seconds(r, k)
                cells.append('' if v is None else f"**{v:.3g} s**" if v == best[k] else f"{v:.3g} s ({v / best[k]:.1f}x)")
            out.append(f"| {r['library']} | " + ' | '.join(cells) + ' |')
        out.append('')
    return '\n'.join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--backends', default=None, help="comma-separated (default: tensorflow,jax,torch,torch-compile; with "
                    "--smoke, the active one); torch-compile: PyTorch with torch.compile'd steps (the presets only)")
    ap.add_argument('--n', type=int, default=4096, help='training images per epoch')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--m2-steps', type=int, default=100, help="M2's optimizer steps per epoch")
    ap.add_argument('--n-generate', type=int, default=100_000)
    ap.add_argument('--train-epochs', type=int, default=3, help='epochs of the timed `train` command (0: not run)')
    ap.add_argument('--timed-cli', nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    ap.add_argument('--json', type=Path, help='also write the results here')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    ap.add_argument('--compiled', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.timed_cli: return _timed_cli(args.timed_cli[1:], args.timed_cli[0])
    if args.smoke:
        args.n, args.epochs, args.m2_steps, args.n_generate, args.train_epochs = (
            SMOKE[k] for k in ('n', 'epochs', 'm2_steps', 'n_generate', 'train_epochs'))
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
               train_command_note=f"digits preset, {args.train_epochs} epochs on {args.n:,} images",
               date=time.strftime('%Y-%m-%d'), command=' '.join(['python', 'bench/backends.py', *(argv or sys.argv[1:])]),
               n_train=args.n, epochs=args.epochs, seed_as_written=dict(epoch_s=round(base, 4), epoch_times=seed.get('epoch_times')),
               backends=rows)
    print(json.dumps(res, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1) + '\n')


if __name__ == '__main__':
    main()
