"""Data quality of the bundled generators, measured against the real 10,000-image test set; written to assets/quality.json.

For each ROW `MODEL:SAMPLER:SEEDS[:THRESHOLD]` (e.g. `digits:fitted:3`; a threshold filters, see `generate`) it runs `vae_mnist.evaluate.data_quality`: reader
agreement, train-on-synthetic with as many synthetic digits as real training digits (the reader's CNN recipe, one
fresh synthetic set and one training seed per seed), real + synthetic, FID in the reader's features next to the
real-vs-real floor, and nearest-neighbour distances to the training set. `--real-seeds` trains the same recipe on
the real training digits: the reference row. Results are written after every row (atomically), so a stopped run
keeps what it finished; `generate` copies the row of the generator and sampler it used into each dataset card.

    python bench/data_quality.py                                  # the default rows: ~30-40 minutes on 2 cores
    python bench/data_quality.py --rows cvae:fitted:1 --real-seeds 1 --out /tmp/q.json   # one quick row
    python bench/data_quality.py --smoke      # row cvae:fitted:1 on 300 + 200 images, 20 classifier steps: seconds
"""
import argparse, datetime, json, os, shlex, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard  # noqa: E402
ROWS = ['digits:fitted:3', 'digits:prior:1', 'cvae:fitted:3', 'cvae:prior:1', 'cvae:fitted:1:0.5', 'mlp:prior:1', 'seed:prior:1']
# `--smoke`: the same code on a tiny size (its --out: a temporary file unless given, never in the package)
SMOKE = dict(rows=['cvae:fitted:1'], real_seeds=1, n_train=300, n_test=200, steps=20)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rows', nargs='+', default=None, help=f"MODEL:SAMPLER:SEEDS[:THRESHOLD] (default: {' '.join(ROWS)})")
    ap.add_argument('--real-seeds', type=int, default=3)
    ap.add_argument('--out', help='default: the package\'s assets/quality.json')
    ap.add_argument('--append', action='store_true', help='add the rows to those already in --out (and keep its real reference '
                    'when --real-seeds is 0); a row of the same model and sampler is replaced')
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    a = ap.parse_args(argv)
    a.rows = a.rows or (SMOKE['rows'] if a.smoke else ROWS)
    if a.smoke:
        a.real_seeds = min(a.real_seeds, SMOKE['real_seeds'])
        smoke_guard(ap, a.out)
    sys.path.insert(0, str(REPO))
    from vae_mnist.classifier import load_classifier
    from vae_mnist.data import load_mnist
    from vae_mnist.evaluate import data_quality, real_reference
    from vae_mnist.files import atomic_write
    from vae_mnist.generate import load_generator
    from vae_mnist.core import pretrained_dir
    tmp = tempfile.TemporaryDirectory() if a.smoke and not a.out else None  # removed when the script ends
    out = Path(a.out) if a.out else Path(tmp.name)/'quality.json' if tmp else pretrained_dir()/'quality.json'
    data = load_mnist()
    sizes = {}  # data_quality's and real_reference's defaults, but under --smoke
    if a.smoke:
        (x, y), (xt, yt) = data
        data = (x[:SMOKE['n_train']], y[:SMOKE['n_train']]), (xt[:SMOKE['n_test']], yt[:SMOKE['n_test']])
        sizes = dict(steps=SMOKE['steps'])
    command = 'python bench/data_quality.py ' + ' '.join(map(shlex.quote, argv if argv is not None else sys.argv[1:]))
    res = dict(command=command, date=datetime.date.today().isoformat(), cpus=os.cpu_count(), n_train=len(data[0][0]),
               n_test=len(data[1][0]), test_set='the 10,000 canonical MNIST test images', rows=[])
    if a.append and out.is_file():
        res = json.loads(out.read_text())
        res.update(command=res['command'] + '; ' + command, date=datetime.date.today().isoformat())
    save = lambda: atomic_write(out, lambda p: Path(p).write_text(json.dumps(res, indent=1) + '\n'))
    if a.real_seeds or 'real_reference' not in res:
        t0 = time.perf_counter()
        res['real_reference'] = real_reference(data, seeds=tuple(range(max(a.real_seeds, 1))), **sizes)
        print(f"real {res['n_train']:,}: {res['real_reference']}  ({time.perf_counter() - t0:.0f} s)", flush=True); save()
    reader = load_classifier()
    for row in a.rows:
        name, sampler, seeds, *threshold = row.split(':')
        t0 = time.perf_counter()
        q = data_quality(load_generator(name), data, sampler=sampler, seeds=tuple(range(int(seeds))), reader=reader,
                         threshold=float(threshold[0]) if threshold else 0.0, **sizes)
        key = lambda r: (r['model'], r['sampler'], r.get('threshold', 0))
        res['rows'] = [r for r in res['rows'] if key(r) != key(q)] + [q]; save()
        print(f"{row}: agreement {q['agreement']['accuracy']:.4f}, TSTR {q['tstr']['mean']:.4f} +- {q['tstr']['std']:.4f}, "
              f"real+syn {q.get('real_plus_synthetic')}, FID {q['fid']} (floor {q['fid_floor']}), NN {q['nn']}  "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"written: {out}" + (' (temporary: removed now)' if tmp else ''))


if __name__ == '__main__': main()
