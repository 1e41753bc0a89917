"""When does generated data help? (issue 19, item 3): labelled real n against the same CNN recipe on ours and on both.

For each n in --labels and each label draw (seeds 0..draws-1), on the real 10,000-image test set:
- `real_only`: the project's best real-only recipe, the CNN with +-2 px shifts (`train_classifier(kind='cnn')`, 1,800
  steps), on the n labelled real digits;
- `ours`: the same recipe on 22,699 digits from an SSVAE that saw only those n labels (M2 on the codes of one shared
  M1 that never saw a label), drawn from its fitted density and labelled by its own classifier (the shipped defaults);
- `real_plus_ours`: the same recipe on the n real digits and those 22,699 together;
- `mixed` (with --mixed): the same recipe on the n real digits and ours mixed by the shipped rule for n
  (`cards.mixing_rule`, chosen by `bench/mixing.py` on held-out training images); where the rule adds none of ours, that
  is the real-only training itself, and its figure is `real_only`'s. --mixed adds it to finished runs too.
n = 22,699 (every label) uses the `digits` generator: `real_only` and `ours` are `assets/quality.json`'s figures (the
same recipe and seeds, `bench/data_quality.py`), `real_plus_ours` is measured here for each seed.
Every finished run is written to --out at once (with the summary), and M2 runs in --work are reused, so an interrupted
run resumes. --data-rows merges the item-1/2 rows of `bench/few_labels_data.py` (the shipped recipe's line).

    python bench/few_labels_curve.py --out vae_mnist/assets/usefulness.json --work W --data-rows D.jsonl   # ~3 hours on 2 cores
    python bench/few_labels_curve.py --smoke      # n = 20, 1 draw, on 300 + 200 images, 20 steps each: seconds

With --smoke (which includes --mixed), --out and --work default to a temporary folder (never in the package), the data
is the first 300 training and 200 test images, M2 and each CNN take 20 steps, and --full takes its digits row's first
seed only.
"""
import argparse, datetime, json, statistics, sys, tempfile, time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard  # noqa: E402
FIGURES = ('real_only', 'ours', 'real_plus_ours', 'mixed', 'ssvae_classifier')
# `--smoke`: the same code on a tiny size (n = 20: an M2 is trained; n = 100, draw 0 is the bundled ssvae-100)
SMOKE = dict(labels='20', draws=1, n_train=300, n_test=200, steps=20)


def stats(v: list) -> dict:
    return dict(mean=round(statistics.mean(v), 4), std=round(statistics.stdev(v), 4) if len(v) > 1 else None, n=len(v), values=v)


def summary(res: dict) -> list:
    "One row per (n, generator): mean +- std over draws of each figure, and the gain of real + ours over real alone."
    rows = []
    for n, gen in sorted({(r['n_labels'], r['generator']) for r in res['runs']}):
        rs = [r for r in res['runs'] if (r['n_labels'], r['generator']) == (n, gen)]
        row = dict(n_labels=n, generator=gen, steps=rs[0].get('steps'), align=all(r.get('align', False) for r in rs),  # the recipe's
                   **{k: stats([r[k] for r in rs]) for k in FIGURES if all(k in r for r in rs)})
        if 'real_plus_ours' in row and 'real_only' in row:
            row['gain'] = round(row['real_plus_ours']['mean'] - row['real_only']['mean'], 4)
            row['helps'] = row['gain'] > 0
            ours = f"{rs[0]['n_ours']:,} of our digits" if 'n_ours' in rs[0] else 'our digits'
            row['verdict'] = (f"with {n:,} real labels, adding {ours} to them moved the CNN recipe from {row['real_only']['mean']:.2%} "
                              f"to {row['real_plus_ours']['mean']:.2%} ({100 * row['gain']:+.2f} points, {row['real_plus_ours']['n']} draws)")
        if 'mixed' in row and 'real_only' in row:
            row['gain_mixed'], row['mixing'] = round(row['mixed']['mean'] - row['real_only']['mean'], 4), rs[0]['mixing']
            row['verdict_mixed'] = (
                f"with {n:,} real labels the rule adds none of our digits (none helped on the validation split): the CNN recipe "
                f"reads {row['real_only']['mean']:.2%} ({row['mixed']['n']} draws)" if rs[0]['mixing'] == 'real alone' else
                f"with {n:,} real labels, our digits mixed in by the rule ({rs[0]['mixing']}) moved the CNN recipe from "
                f"{row['real_only']['mean']:.2%} to {row['mixed']['mean']:.2%} ({100 * row['gain_mixed']:+.2f} points, {row['mixed']['n']} draws)")
        rows.append(row)
    data = [json.loads(l) for p in res.get('data_rows_files', []) for l in Path(p).read_text().splitlines() if l.strip()]
    for row in rows:  # item 1 and 2: an independent CNN (no shifts) on the shipped recipe's digits, on the labelled real ones
        if row['n_labels'] != 100 or row['generator'] != 'ssvae' or not data: continue
        per = {k: [d['independent_cnn'] for d in data if d['idea'] == k] for k in {d['idea'] for d in data}}
        row['independent_cnn'] = {k: stats(v) for k, v in sorted(per.items())}
        if per.get('pseudo'): row['labelled'] = dict(independent_cnn=stats(per['pseudo']),
                                                     note="the 22,699 real training images labelled by the SSVAE's classifier (vae-mnist label)")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument('--labels', default=None, help=f"comma-separated n (default: 100,1000,300,3000; with --smoke, {SMOKE['labels']})")
    ap.add_argument('--draws', type=int, default=3)
    ap.add_argument('--full', action='store_true', help='also n = 22,699 with the digits generator (real + ours per seed)')
    ap.add_argument('--out', type=Path, help='the results (JSON; required but with --smoke)')
    ap.add_argument('--work', type=Path, help='M2 runs (L{n}-draw{d}); finished ones are reused (required but with --smoke)')
    ap.add_argument('--data-rows', action='append', default=[], help='JSON lines of bench/few_labels_data.py to merge')
    ap.add_argument('--redo-ssvae', action='store_true', help="measure the SSVAE rows again with today's recipe: the earlier "
                    "ones move to 'before' (their real_only figures, which depend only on n, the draw and the CNN recipe, are reused)")
    ap.add_argument('--redo', default='', metavar='N,...', help="measure the SSVAE runs of these n again with today's recipe, "
                    "replacing the finished ones (their real_only, which no generator touches, is reused)")
    ap.add_argument('--mixed', action='store_true', help="also the n real digits and ours mixed by the shipped rule for n "
                    "(cards.mixing_rule), for new runs and finished ones")
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    a = ap.parse_args(argv)
    if not a.smoke and (a.out is None or a.work is None):
        ap.error('the following arguments are required: ' + ', '.join(f for f, v in (('--out', a.out), ('--work', a.work)) if v is None))
    a.labels = a.labels or (SMOKE['labels'] if a.smoke else '100,1000,300,3000')
    steps = None  # train_classifier's default (1,800), and M2's below, but under --smoke
    if a.smoke:
        smoke_guard(ap, a.out, a.work)
        a.draws, steps, a.mixed = min(a.draws, SMOKE['draws']), SMOKE['steps'], True
        tmp = tempfile.TemporaryDirectory()  # removed when the script ends
        a.out, a.work = a.out or Path(tmp.name)/'usefulness.json', a.work or Path(tmp.name)/'work'
    sys.path.insert(0, str(REPO))
    from vae_mnist.cards import mix_in, mixing_rule
    from vae_mnist.classifier import classify, train_classifier
    from vae_mnist.data import load_mnist
    from vae_mnist.files import atomic_write
    from vae_mnist.generate import generate, load_generator
    from vae_mnist.core import pretrained_dir
    from vae_mnist.model import load_pretrained
    from vae_mnist.semisupervised import SSVAEConfig, fit_ssvae_density, label_split, train_ssvae
    (x, y), (x_test, y_test) = data = load_mnist()
    if a.smoke: (x, y), (x_test, y_test) = (x[:SMOKE['n_train']], y[:SMOKE['n_train']]), (x_test[:SMOKE['n_test']], y_test[:SMOKE['n_test']])
    acc = lambda clf: round(float((classify(clf, x_test)[0] == y_test).mean()), 4)
    res = json.loads(a.out.read_text()) if a.out.exists() else {}
    command = 'python bench/few_labels_curve.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    earlier = res.pop('commands', None) or ([res.pop('command')] if 'command' in res else [])
    res.update(commands=earlier + [command],  # every invocation that added to (or merged into) this file
               date=datetime.date.today().isoformat(), runs=res.get('runs', []), data_rows_files=[str(p) for p in a.data_rows],
               note=("each figure: accuracy on the 10,000 real test digits, mean +- std over label draws (seeds); the same CNN "
                     "recipe (shifts, 1,800 steps) in every column; the generator saw only the n labels; trained on the first "
                     "22,699 MNIST training images"))
    def add_mixed(row, model, g, idx):
        "The CNN recipe on the real digits and ours, mixed by the shipped rule for n."
        rule = mixing_rule(row['n_labels'])
        row['mixing'] = rule['chosen']
        row['mixed'] = row['real_only'] if rule['n_ours'] == 0 else acc(train_classifier(
            *mix_in(x[idx], y[idx], g.x, g.y, rule=rule), steps=steps, kind='cnn', seed=row['draw']))
    def save():
        res['rows'] = summary(res)
        atomic_write(a.out, lambda p: Path(p).write_text(json.dumps(res, indent=1) + '\n'))
    reuse = {}  # (n, draw) -> real_only measured before: the CNN on the n real digits, which no generator touches
    if a.redo_ssvae and 'before' not in res:  # once: a second call with the flag resumes the new runs
        res['before'] = dict(rows=[r for r in res.get('rows', []) if r['generator'] == 'ssvae'], runs=[r for r in res['runs'] if r['generator'] == 'ssvae'])
        res['runs'] = [r for r in res['runs'] if r['generator'] != 'ssvae']
    if a.redo_ssvae: reuse = {(r['n_labels'], r['draw']): r['real_only'] for r in res['before']['runs']}
    redo = {int(n) for n in a.redo.split(',') if n}
    reuse.update({(r['n_labels'], r['draw']): r['real_only'] for r in res['runs'] if r['generator'] == 'ssvae' and r['n_labels'] in redo})
    res['runs'] = [r for r in res['runs'] if r['generator'] != 'ssvae' or r['n_labels'] not in redo]
    done = {(r['n_labels'], r['draw']) for r in res['runs']}
    m1 = load_pretrained('ssvae-100').m1  # trained on the 22,699 images without labels: shared by every n and draw
    for n in (int(s) for s in a.labels.split(',') if s):
        for draw in range(a.draws):
            if (n, draw) in done: continue
            t0, idx = time.perf_counter(), label_split(y, n, draw)
            config = SSVAEConfig(n_labels=n, seed=draw, **({'steps': steps} if steps else {}))  # the shipped recipe
            model = (load_pretrained('ssvae-100') if (n, draw) == (100, 0) else  # the bundled model is this run
                     train_ssvae(config, x, y, a.work/f"L{n}-draw{draw}", m1=m1, verbose=0)[0])
            model.latent_density = fit_ssvae_density(model, x)
            g = generate(model, len(x), seed=draw)  # the defaults: fitted density, the model's own classifier's labels
            row = dict(n_labels=n, draw=draw, generator='ssvae', steps=config.steps, align=model.config.align, n_ours=len(g.x),
                       ssvae_classifier=round(float((model.predict_proba(x_test).argmax(1) == y_test).mean()), 4),
                       real_only=reuse.get((n, draw)) or acc(train_classifier(x[idx], y[idx], steps=steps, kind='cnn', seed=draw)),
                       ours=acc(train_classifier(g.x, g.y, steps=steps, kind='cnn', seed=draw)),
                       real_plus_ours=acc(train_classifier(np.concatenate([x[idx], g.x]), np.concatenate([y[idx], g.y]), steps=steps, kind='cnn', seed=draw)))
            if a.mixed: add_mixed(row, model, g, idx)
            row['seconds'] = round(time.perf_counter() - t0, 1)
            res['runs'].append(row); save(); print(json.dumps(row), flush=True)
    for row in [r for r in res['runs'] if a.mixed and r['generator'] == 'ssvae' and 'mixed' not in r]:  # finished before --mixed
        n, draw = row['n_labels'], row['draw']
        model = load_pretrained('ssvae-100') if (n, draw) == (100, 0) else load_generator(a.work/f"L{n}-draw{draw}"/'model.keras')
        model.latent_density = fit_ssvae_density(model, x)
        add_mixed(row, model, generate(model, len(x), seed=draw), label_split(y, n, draw))  # the same digits as `ours`
        save(); print(json.dumps(row), flush=True)
    if a.full:
        q = json.loads((pretrained_dir()/'quality.json').read_text())
        qrow = next(r for r in q['rows'] if (r['model'], r['sampler'], r.get('threshold', 0)) == ('digits', 'fitted', 0))
        gen = load_generator('digits')
        for i, seed in enumerate(qrow.get('seeds', [0, 1, 2])[:1 if a.smoke else None]):
            if (len(x), seed) in done: continue
            g = generate(gen, len(x), seed=seed)
            row = dict(n_labels=len(x), draw=seed, generator='digits', real_only=q['real_reference']['per_seed'][i],
                       ours=qrow['tstr']['per_seed'][i], source_real_only_and_ours=q['command'],
                       real_plus_ours=acc(train_classifier(np.concatenate([x, g.x]), np.concatenate([y, g.y]), steps=steps, kind='cnn', seed=seed)))
            res['runs'].append(row); save(); print(json.dumps(row), flush=True)
    save()


if __name__ == '__main__': main()
