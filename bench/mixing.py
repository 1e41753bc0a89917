"""How many of our digits to add to n real labelled ones, and how (issue 27, item 2): the mixing rule, chosen on a validation split.

For each n in --labels, the SSVAE that `bench/labeller.py` trained with --idea (default: the shipped recipe) on the
training images less the last --val (2,699), with n labels (label draw --draw), is loaded from --work; its density is
fitted on those training images and it generates --n-ours digits, labelled by its own classifier (the shipped defaults).
Then, for each candidate in CANDIDATES (how many of ours, the real digits' share of the training set), the project's CNN
recipe (`train_classifier(kind='cnn')`, 1,800 steps, seeded by the draw) is trained on the n real labelled digits (the
ones M2 saw) mixed with ours by `cards.mix_in`, and scored on the held-out images, which neither the generator nor the
CNN saw. The best candidate is the rule for n (a tie goes to the earlier candidate: fewer of ours, then less weight on
ours). The test set is never read. --out gets every score and the rules (the shape `cards.mixing_rule` reads); finished
(n, candidate) scores in it are reused, so an interrupted run resumes.

    python bench/mixing.py --work W --out vae_mnist/assets/mixing.json --labels 100,300,1000,3000   # W: bench/labeller.py's
    python bench/mixing.py --smoke      # bench/labeller.py --smoke's run, then n = 20 with 20 CNN steps: a minute

With --smoke, --work and --out are temporary: bench/labeller.py --smoke trains its tiny SSVAE there first.
"""
import argparse, datetime, json, sys, tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard  # noqa: E402

# (name, how many of ours, the real digits' share of the training set: None is each digit once)
CANDIDATES = [('real alone', 0, None), ('all of ours', 22_699, None), ('all, real half', 22_699, 0.5),
              ('all, real 80%', 22_699, 0.8), ('5,000 of ours', 5_000, None)]
SMOKE = dict(n_train=1100, val=100, labels='20', steps=20, n_ours=300)


def choose(scores: dict) -> str:
    "The best candidate by held-out accuracy; a tie goes to the one listed first (`max` keeps the first of equals)."
    return max((name for name, *_ in CANDIDATES if name in scores), key=scores.get)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument('--labels', default='100,300,1000,3000', help='comma-separated n (default: 100,300,1000,3000)')
    ap.add_argument('--idea', default='lam10_steps8k', help="bench/labeller.py's idea name whose runs to load (default: the shipped recipe's)")
    ap.add_argument('--draw', type=int, default=0)
    ap.add_argument('--val', type=int, default=2699, help='held-out training images, as bench/labeller.py held out (default: 2,699)')
    ap.add_argument('--n-ours', type=int, default=22_699, help='our digits generated per n (default: 22,699, as Few labels adds)')
    ap.add_argument('--work', type=Path, help="bench/labeller.py's --work (required but with --smoke)")
    ap.add_argument('--out', type=Path, help='the scores and rules, JSON (required but with --smoke)')
    ap.add_argument('--smoke', action='store_true', help=f'a tiny run of the same code: {SMOKE}')
    a = ap.parse_args(argv)
    if not a.smoke and (a.out is None or a.work is None): ap.error('--out and --work are required (but with --smoke)')
    steps = None  # the CNN recipe's 1,800
    if a.smoke:
        smoke_guard(ap, a.out, a.work)
        tmp = tempfile.TemporaryDirectory()
        a.out, a.work = a.out or Path(tmp.name)/'mixing.json', a.work or Path(tmp.name)/'work'
        import labeller
        labeller.main(['--smoke', '--work', str(a.work), '--out', str(Path(tmp.name)/'labeller.jsonl')])
        a.labels, a.idea, a.val, a.draw, a.n_ours, steps = SMOKE['labels'], 'default', SMOKE['val'], 0, SMOKE['n_ours'], SMOKE['steps']
    sys.path.insert(0, str(REPO))
    import numpy as np
    from vae_mnist.cards import mix_in
    from vae_mnist.classifier import accuracy, classify, train_classifier
    from vae_mnist.data import load_mnist
    from vae_mnist.files import atomic_write
    from vae_mnist.generate import generate, load_generator
    from vae_mnist.semisupervised import fit_ssvae_density
    (x, y), _ = load_mnist()  # the test set is not used
    if a.smoke: x, y = x[:SMOKE['n_train']], y[:SMOKE['n_train']]
    (x, y), (x_val, y_val) = (x[:-a.val], y[:-a.val]), (x[-a.val:], y[-a.val:])
    res = json.loads(a.out.read_text()) if a.out.exists() else {'scores': {}}
    command = 'python bench/mixing.py ' + ' '.join(argv if argv is not None else sys.argv[1:])
    res.update(command=command, date=datetime.date.today().isoformat(), candidates=CANDIDATES, idea=a.idea, draw=a.draw,
               note=(f"chosen on {a.val:,} held-out training images (the last of the first 22,699), seen by neither the generator "
                     f"nor the CNN; the generator: an SSVAE ({a.idea}, label draw {a.draw}) trained on the other {len(x):,} with n "
                     f"labels; {a.n_ours:,} of its digits; the CNN recipe (shifts, 1,800 steps), seed {a.draw}; one draw each"))
    def save():
        res['rules'] = []
        for n, s in sorted(res['scores'].items(), key=lambda kv: int(kv[0])):
            if len(s) < len(CANDIDATES): continue
            best = choose(s); _, n_ours, share = next(c for c in CANDIDATES if c[0] == best)
            res['rules'].append(dict(n_labels=int(n), chosen=best, n_ours=n_ours, real_share=share,
                                     val=s[best], val_real_alone=s['real alone'], val_gain=round(s[best] - s['real alone'], 4)))
        atomic_write(a.out, lambda p: Path(p).write_text(json.dumps(res, indent=1) + '\n'))
    for n in map(int, a.labels.split(',')):
        scores = res['scores'].setdefault(str(n), {})
        if len(scores) == len(CANDIDATES): continue
        run = a.work/f"{a.idea}-L{n}-draw{a.draw}"
        model = load_generator(run/'model.keras')
        idx = np.asarray(json.loads((run/'labelled.json').read_text())['indices'])  # the labels M2 saw
        model.latent_density = fit_ssvae_density(model, x)
        g = generate(model, a.n_ours, seed=a.draw)
        print(f"n = {n}: the generator's classifier reads the held-out images at "
              f"{accuracy(model.predict_proba(x_val).argmax(1), y_val):.2%}", flush=True)
        for name, n_ours, share in CANDIDATES:
            if name in scores: continue
            xm, ym = mix_in(x[idx], y[idx], g.x, g.y, n_ours=n_ours, real_share=share)
            clf = train_classifier(xm, ym, steps=steps, kind='cnn', seed=a.draw)
            scores[name] = accuracy(classify(clf, x_val)[0], y_val)
            save(); print(f"n = {n}, {name}: {scores[name]:.2%} on the held-out images", flush=True)
    save()
    for r in res['rules']: print(json.dumps(r))


if __name__ == '__main__': main()
