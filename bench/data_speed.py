"""How fast the data module reads 60,000 digits: IDX (gzipped) and Kaggle CSV, each against a baseline in the same run.

    python bench/data_speed.py                 # 5 repeats each; about a minute on 2 cores
    python bench/data_speed.py --repeats 3 --naive-images 500 --json bench/results/data_speed.json
    python bench/data_speed.py --smoke         # 1 repeat on 300 + 100 digits copied to a temporary folder: seconds

Data: full-size Fashion-MNIST from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, or --fashion-dir).
- IDX: `read_idx` on train-images-idx3-ubyte.gz (60,000 images) and `load_mnist(dataset='fashion_mnist')` (all four
  files, 70,000 digits), against a naive pure-Python reader (one `struct.unpack` per pixel) timed on the first
  --naive-images images and compared per image.
- CSV: a 60,000-row Kaggle-format CSV written once to a temporary folder with `write_csv`, read with `read_csv`,
  against the seed's way as written (`pd.read_csv`, then `df.drop('label', axis=1).values.reshape(-1, 28, 28) / 255`).
Each timing is repeated; the median and the minimum are printed (time.perf_counter). Targets: IDX 60k < 1 s, CSV < 5 s.
"""
import argparse
import gzip
import json
import os
import platform
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard  # noqa: E402
sys.path.insert(0, str(REPO))  # this checkout's package, wherever the script is run from

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from vae_mnist.data import load_mnist  # noqa: E402
from vae_mnist.formats import read_csv, read_idx, write_csv, write_idx  # noqa: E402

TARGETS = {'read_idx': 1.0, 'read_csv': 5.0}  # seconds for 60,000 digits (the targets)
IDX = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
# `--smoke`: the same code on a tiny size: the first digits of Fashion-MNIST (or, where it is missing, of the MNIST
# `load_mnist` finds) written as gzipped IDX files to a temporary folder, read from there
SMOKE = dict(repeats=1, naive_images=20, n_train=300, n_test=100)


def smoke_data(fashion_dir: Path, out: Path) -> Path:
    "The first `SMOKE` digits as the four gzipped IDX files, in `out`: from `fashion_dir` if it has them, else MNIST."
    if all((fashion_dir/f'{n}.gz').is_file() for n in IDX): arrays = [read_idx(fashion_dir/f'{n}.gz') for n in IDX]
    else: (xa, ya), (xb, yb) = load_mnist(); arrays = [xa, ya, xb, yb]
    sizes = (SMOKE['n_train'],) * 2 + (SMOKE['n_test'],) * 2
    for n, a, k in zip(IDX, arrays, sizes): write_idx(out/f'{n}.gz', a[:k])
    return out


def timed(fn, repeats):
    "Run `fn` `repeats` times: (its last result, the list of wall-clock seconds)."
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t0)
    return out, times


def naive_read_idx(path, n_images):
    "The baseline: a pure-Python IDX reader, one struct.unpack per pixel, for the first `n_images` images."
    with gzip.open(path, 'rb') as f:
        _, _, ndim = struct.unpack('>HBB', f.read(4))
        n, rows, cols = struct.unpack(f'>{ndim}I', f.read(4 * ndim))
        n = min(n, n_images)
        pixels = [struct.unpack('>B', f.read(1))[0] for _ in range(n * rows * cols)]
    return np.array(pixels, dtype=np.uint8).reshape(n, rows, cols)


def seed_read_csv(path):
    "The baseline: the seed's CSV loading as written (no checks; float64 pixels in [0, 1])."
    df = pd.read_csv(path)
    return df.drop('label', axis=1).values.reshape(-1, 28, 28) / 255, df['label'].values


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeats', type=int, default=5, help='timings per measurement (default 5)')
    ap.add_argument('--naive-images', type=int, default=1000, help='images the pure-Python IDX baseline reads')
    ap.add_argument('--fashion-dir', type=Path, default=Path('/usr/share/datasets/fashion-mnist'))
    ap.add_argument('--json', type=Path, help='also write the results here')
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    a = ap.parse_args(argv)
    n_train = 60_000
    if a.smoke:
        smoke_guard(ap, a.json)
        tmp = tempfile.TemporaryDirectory()  # removed when the script ends
        a.fashion_dir = smoke_data(a.fashion_dir, Path(tmp.name))
        a.repeats, a.naive_images, n_train = SMOKE['repeats'], SMOKE['naive_images'], SMOKE['n_train']
    images = a.fashion_dir/'train-images-idx3-ubyte.gz'
    if not images.is_file():
        sys.exit(f"{images}: not found; install Debian's dataset-fashion-mnist (make system-deps) or pass --fashion-dir")
    os.environ['VAE_FASHION_MNIST_DATA'] = str(a.fashion_dir)  # load_mnist reads exactly this folder

    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"{os.cpu_count()} CPUs; {a.repeats} repeats; data {a.fashion_dir}")
    rows, res = [], {}

    def report(name, n, times, note=''):
        med, best = statistics.median(times), min(times)
        res[name] = dict(n=n, median_s=med, min_s=best, times_s=times)
        rows.append(f"{name:<26}{n:>8,}{med:>11.3f}{best:>10.3f}{med / n * 1e6:>14.2f}  {note}")
        return med

    x, t = timed(lambda: read_idx(images), a.repeats)
    assert x.shape == (n_train, 28, 28) and x.dtype == np.uint8
    report('read_idx', len(x), t, 'ours, train-images-idx3-ubyte.gz')
    (xa, ya), (xb, _) = load_mnist(dataset='fashion_mnist')
    _, t = timed(lambda: load_mnist(dataset='fashion_mnist'), a.repeats)
    report('load_mnist(fashion_mnist)', len(xa) + len(xb), t, 'ours, 4 files, all checks')
    xn, t = timed(lambda: naive_read_idx(images, a.naive_images), max(1, min(a.repeats, 3)))
    assert np.array_equal(xn, x[:len(xn)])
    report('naive IDX (pure Python)', len(xn), t, f'baseline, first {len(xn):,} images only')

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp)/'fashion-mnist_train.csv'
        t0 = time.perf_counter(); write_csv(csv, xa, ya); t_write = time.perf_counter() - t0
        print(f"wrote {csv.stat().st_size / 1e6:.0f} MB of CSV ({len(xa):,} rows) in {t_write:.1f} s with write_csv")
        (xc, yc), t = timed(lambda: read_csv(csv), a.repeats)
        assert np.array_equal(xc, xa) and np.array_equal(yc, ya)
        report('read_csv', len(xc), t, 'ours, all checks, uint8')
        (xs, _), t = timed(lambda: seed_read_csv(csv), a.repeats)
        assert np.array_equal(np.rint(xs * 255), xa)
        report('seed CSV (as written)', len(xs), t, 'baseline: pd.read_csv + drop/reshape/255, no checks')

    print(f"\n{'':<26}{'digits':>8}{'median s':>11}{'min s':>10}{'us/digit':>14}")
    print('\n'.join(rows))
    per = lambda k: res[k]['median_s'] / res[k]['n']
    ratios = {'read_idx vs naive IDX (per image)': per('naive IDX (pure Python)') / per('read_idx'),
              'read_csv vs seed CSV': res['seed CSV (as written)']['median_s'] / res['read_csv']['median_s']}
    print()
    for k, r in ratios.items(): print(f"{k}: ours is {r:.1f}x {'faster' if r >= 1 else 'slower'} ({r:.2f})")
    for k, limit in TARGETS.items():
        med = res[k]['median_s']
        verdict = f'not judged (--smoke: {res[k]["n"]:,} digits)' if a.smoke else 'met' if med < limit else 'MISSED'
        print(f"target {k} 60k < {limit:g} s: {verdict} (median {med:.3f} s)")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(dict(results=res, ratios=ratios, repeats=a.repeats, cpus=os.cpu_count(),
                                          numpy=np.__version__, pandas=pd.__version__), indent=1))
        print(f"wrote {a.json}")


if __name__ == '__main__':
    main()
