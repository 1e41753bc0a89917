"""How fast labelled synthetic digits are generated and written, and how little memory a million of them take.

    python bench/generate_speed.py                      # about a minute on 2 cores
    python bench/generate_speed.py --repeats 3 --million --json bench/results/generate_speed.json
    python bench/generate_speed.py --smoke              # 1 run of 1,000 digits, a 5-point baseline (--million: 2,000): seconds

Model: `--model`, default the bundled `seed` VAE (2-D latent, unconditional), so every digit is also labelled by the
bundled reader (the CNN of `vae_mnist.classifier`); a conditional model (`--model cvae`, `--model digits`) is asked
for each label and needs no reader, and samples from its fitted latent density (`load_generator`).
- ours: `write_generated(model, 100_000, tmp/'s.npz', seed=i)`: draw z, decode in batches of 10,000, round to uint8,
  label (reader: label + confidence), stream into an npz and its card; `--repeats` times, median and minimum.
- baseline, the seed as written: the seed decoded one digit per `generator.predict(z_sample)` call. Timed on
  `--baseline-points` points with the same decoder (Keras 3 `predict` on the seed model's decoder), then compared per
  digit. The baseline neither labels nor writes anything, which flatters it.
- `--million`: 1,000,000 digits to npz in a fresh process, batches of 10,000; the process reports its peak RSS
  (`resource.getrusage`, ru_maxrss) and its RSS just before generating (model and classifier loaded). Holding the
  whole set would need 784 MB as uint8 and 3.1 GB as the decoder's float32.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard  # noqa: E402
sys.path.insert(0, str(REPO))
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
# `--smoke`: the same code on a tiny size; `million` is the digits its --million worker writes
SMOKE = dict(n=1000, repeats=1, baseline_points=5, batch_size=400, warm=500, million=2000)


def _rss_mb() -> float:
    with open('/proc/self/status') as f:
        return next(int(l.split()[1]) for l in f if l.startswith('VmRSS:')) / 1024


def million_worker(n: int, batch_size: int, warm: int = 20_000):
    "Runs in a fresh process: write n digits to npz in batches (after `warm` of them); print one JSON line."
    from vae_mnist.classifier import load_classifier
    from vae_mnist.generate import load_generator, write_generated
    model, clf = load_generator('seed'), load_classifier()
    write_generated(model, warm, Path(tempfile.mkdtemp())/'warm.npz', classifier=clf, batch_size=batch_size)  # warm-up
    before = _rss_mb()
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        info = write_generated(model, n, Path(d)/'million.npz', seed=0, classifier=clf, batch_size=batch_size)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before anything reads the file back
        size = (Path(d)/'million.npz').stat().st_size
        import zipfile
        import numpy as np
        with zipfile.ZipFile(Path(d)/'million.npz') as z, z.open('x.npy') as f:  # the header only, not 784 MB
            np.lib.format.read_magic(f); shape = list(np.lib.format.read_array_header_1_0(f)[0])
    print(json.dumps(dict(n=n, batch_size=batch_size, seconds=seconds, digits_per_s=n / seconds, file_mb=size / 1e6,
                          rss_before_mb=before, peak_rss_mb=peak,
                          x_shape=shape, counts=info['counts'])))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=100_000)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--baseline-points', type=int, default=200)
    ap.add_argument('--million', action='store_true', help='also the 1,000,000-digit bounded-memory run')
    ap.add_argument('--json', type=Path)
    ap.add_argument('--worker', type=int, help=argparse.SUPPRESS)
    ap.add_argument('--batch-size', type=int, default=10_000)
    ap.add_argument('--model', default='seed', help='a bundled model (default: seed)')
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    a = ap.parse_args(argv)
    if a.worker: return million_worker(a.worker, a.batch_size, *([SMOKE['warm']] if a.smoke else []))
    warm, million = 10_000, 1_000_000
    if a.smoke:
        smoke_guard(ap, a.json)
        a.n, a.repeats, a.baseline_points, a.batch_size = SMOKE['n'], SMOKE['repeats'], SMOKE['baseline_points'], SMOKE['batch_size']
        warm, million = SMOKE['warm'], SMOKE['million']

    import numpy as np
    from vae_mnist.classifier import load_classifier
    from vae_mnist.generate import load_generator, write_generated
    model, clf = load_generator(a.model), load_classifier()
    res = dict(machine=f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}", n=a.n, model=a.model)

    with tempfile.TemporaryDirectory() as d:
        labeller = None if model.config.conditional else clf  # a conditional model's labels need no reader
        write_generated(model, warm, Path(d)/'warm.npz', classifier=labeller)  # warm-up: traces the functions
        times = []
        for i in range(a.repeats):
            t0 = time.perf_counter()
            info = write_generated(model, a.n, Path(d)/f'r{i}.npz', seed=i, classifier=labeller, batch_size=a.batch_size)
            times.append(time.perf_counter() - t0)
            with np.load(Path(d)/f'r{i}.npz') as f:
                assert f['x'].shape == (a.n, 28, 28) and len(f['y']) == a.n and sum(info['counts']) == a.n
    ours = statistics.median(times)
    res['ours'] = dict(median_s=ours, min_s=min(times), digits_per_s=a.n / ours)

    # the seed as written: one predict call per latent point
    decoder, rng = model.decoder, np.random.default_rng(0)
    z = rng.standard_normal((a.baseline_points, model.config.latent_dim)).astype('float32')
    one_hot = np.eye(10, dtype='float32')[[3]]
    ins = lambda i: [z[i:i + 1], one_hot] if model.config.conditional else z[i:i + 1]
    decoder.predict(ins(0), verbose=0)
    t0 = time.perf_counter()
    digits = [decoder.predict(ins(i), verbose=0)[0].reshape(28, 28) for i in range(a.baseline_points)]
    base = (time.perf_counter() - t0) / a.baseline_points
    assert np.allclose(1 / (1 + np.exp(-digits[0])), model.decode(z[:1], 3 if model.config.conditional else None)[0], atol=1e-5)
    res['seed_as_written'] = dict(points=a.baseline_points, s_per_digit=base, digits_per_s=1 / base,
                                  extrapolated_s_for_n=base * a.n)
    res['speedup'] = base * a.n / ours

    print(f"machine: {res['machine']}")
    print(f"ours ({a.model}): {a.n:,} labelled digits generated and written to npz in {ours:.2f} s median "
          f"(min {min(times):.2f} s, {a.repeats} runs): {a.n / ours:,.0f} digits/s")
    print(f"seed as written (one predict per point, no labels, no file): {1 / base:,.0f} digits/s "
          f"({base * 1e3:.1f} ms a digit over {a.baseline_points}); {a.n:,} would take {base * a.n:,.0f} s")
    print(f"ratio: ours is {res['speedup']:,.0f}x faster per digit")

    if a.million:
        p = subprocess.run([sys.executable, __file__, '--worker', str(million), '--batch-size', str(a.batch_size),
                            *(['--smoke'] if a.smoke else [])],
                           capture_output=True, text=True, env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'})
        if p.returncode: raise SystemExit(f"million-digit worker failed: {p.stderr[-2000:]}")
        m = res['million'] = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{m['n']:,} digits to npz ({m['file_mb']:.0f} MB) in {m['seconds']:.1f} s ({m['digits_per_s']:,.0f} digits/s); "
              f"RSS {m['rss_before_mb']:.0f} MB before generating, peak {m['peak_rss_mb']:.0f} MB "
              f"(the set itself is 784 MB as uint8, 3,136 MB as float32)")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
