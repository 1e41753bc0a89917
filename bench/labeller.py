"""The few-labels labeller, idea by idea (issue 27, item 1): the SSVAE's own classifier, chosen on a validation split.

The training images are split once: the last --val (default 2,699) are held out, seen by neither M1 nor M2, their
labels used only to score. M1 is trained once on the others without labels (kept in --work and reused). For each idea
(a name and SSVAEConfig overrides, JSON) and each label draw (seeds 0..draws-1), M2 is trained with n labels drawn
from the others; its classifier is scored on the held-out images (**validation**: where ideas are chosen) and on the
real 10,000-image test set (reported, never used to choose). Each finished run is appended to --out at once, and
runs finished in --work are reused, so an interrupted experiment resumes.

    python bench/labeller.py --work W --out F.jsonl --idea 'm2={"consistency": 0}' --idea 'fixmatch={}' --labels 100
    python bench/labeller.py --smoke      # 1,000 training images, 1 draw, 20 steps: seconds

With --smoke the data is the first 1,100 training images (100 held out) and 200 test images, M1 10 epochs (6 left its codes collapsed on some seeds' noise), M2 20 steps.
"""
import argparse, json, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard  # noqa: E402

SMOKE = dict(n_train=1100, val=100, n_test=200, m1_epochs=10, steps=20, labels='20')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument('--idea', action='append', default=[], metavar='NAME=JSON', help='an idea: SSVAEConfig overrides (repeatable)')
    ap.add_argument('--labels', default='100', help='comma-separated n (default: 100)')
    ap.add_argument('--draws', type=int, default=1)
    ap.add_argument('--val', type=int, default=2699, help='held-out training images (default: 2,699)')
    ap.add_argument('--out', type=Path, help='JSON lines, one per finished run (required but with --smoke)')
    ap.add_argument('--work', type=Path, help='M1 and the M2 runs; finished ones are reused (required but with --smoke)')
    ap.add_argument('--smoke', action='store_true', help=f'a tiny run of the same code: {SMOKE}')
    a = ap.parse_args(argv)
    if not a.smoke and (a.out is None or a.work is None): ap.error('--out and --work are required (but with --smoke)')
    ideas = dict(kv.split('=', 1) for kv in a.idea) or {'default': '{}'}
    ideas = {k: json.loads(v) for k, v in ideas.items()}
    if a.smoke:
        smoke_guard(ap, a.out, a.work)
        tmp = tempfile.TemporaryDirectory()
        a.out, a.work = a.out or Path(tmp.name)/'labeller.jsonl', a.work or Path(tmp.name)/'work'
        a.labels, a.draws, a.val = SMOKE['labels'], 1, SMOKE['val']
    sys.path.insert(0, str(REPO))
    import numpy as np
    from vae_mnist.classifier import accuracy
    from vae_mnist.data import load_mnist
    from vae_mnist.model import VAEConfig
    from vae_mnist.semisupervised import SSVAEConfig, train_ssvae
    from vae_mnist.train import train
    (x, y), (x_test, y_test) = load_mnist()
    if a.smoke: (x, y), (x_test, y_test) = (x[:SMOKE['n_train']], y[:SMOKE['n_train']]), (x_test[:SMOKE['n_test']], y_test[:SMOKE['n_test']])
    (x, y), (x_val, y_val) = (x[:-a.val], y[:-a.val]), (x[-a.val:], y[-a.val:])
    m1_config = VAEConfig.from_dict({**SSVAEConfig().m1, **({'epochs': SMOKE['m1_epochs']} if a.smoke else {})})
    t0 = time.perf_counter()
    m1, _ = train(m1_config, ((x, None), (x[:1000], None)), a.work/'m1', verbose=0)
    print(f"M1 on {len(x):,} images ({time.perf_counter() - t0:.0f} s; reused if trained before)", flush=True)
    done = {(r['idea'], r['n_labels'], r['draw']) for r in map(json.loads, a.out.read_text().splitlines())} if a.out.exists() else set()
    for n in map(int, a.labels.split(',')):
        for name, sets in ideas.items():
            for draw in range(a.draws):
                if (name, n, draw) in done: continue
                smoke = dict(steps=SMOKE['steps'], steps_per_epoch=SMOKE['steps']) if a.smoke else {}
                config = SSVAEConfig.from_dict({**SSVAEConfig().to_dict(), **smoke, **sets, 'n_labels': n, 'seed': draw})
                t0 = time.perf_counter()
                model, history = train_ssvae(config, x, y, a.work/f"{name}-L{n}-draw{draw}", m1=m1, verbose=0)
                row = dict(idea=name, sets=sets, n_labels=n, draw=draw, steps=config.steps,
                           val=accuracy(model.predict_proba(x_val).argmax(1), y_val),
                           test=accuracy(model.predict_proba(x_test).argmax(1), y_test),
                           pseudo_share=round(float(history[-1].get('pseudo_share', 0)), 3), seconds=round(time.perf_counter() - t0, 1))
                with open(a.out, 'a') as f: f.write(json.dumps(row) + '\n')
                print(json.dumps(row), flush=True)


if __name__ == '__main__': main()
