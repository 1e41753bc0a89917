"""Few labels (issue 13): the semi-supervised VAE's figures on the real test set, its training cost, and the bundled ssvae-100.

One run, in this order:
1. the seed notebook as written, 25 epochs (`bench/seed_reference.py`): the reference the cost is a ratio of;
2. M1, the unsupervised VAE of `SSVAEConfig().m1`, on all training images without labels (shared by every run below:
   it never sees a label);
3. for each L in --labels and each label draw (seeds 0..draws-1): `few_labels_run` (M2 on M1's codes with the L
   labels; its classifier on the 10,000 real test digits; for L in --augment, the CNN recipe on the L real digits
   alone and on them plus 10,000 generated digits). Each finished run is written to --out at once.
The training cost of the 100-label model is M1's seconds plus its M2's seconds, against the seed's build + fit.
With --ship, the L=100 draw-0 model is written to the package as `ssvae-100` with its card.

    python bench/few_labels.py --out vae_mnist/assets/few_labels.json --ship    # everything: ~2 hours on 2 cores
    python bench/few_labels.py --labels 100 --draws 1 --out /tmp/fl.json         # one 100-label model: ~13 minutes
    python bench/few_labels.py --smoke      # L=100, 1 draw, tiny sizes, --ship into the temporary work folder: seconds

With --smoke, the same steps run on 1,000 training and 200 test images: the seed 1 epoch, M1 10 epochs (fewer can leave its
codes collapsed), M2 10 steps, 200 generated digits, 10 classifier steps; the shipping step runs (unless --m1), writing
into the work folder's `assets/` (a temporary folder unless --work), never into the package; --out defaults to a file
there too.
"""
import argparse, json, statistics, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import SMOKE as SEED_SMOKE, run_seed, smoke_guard  # noqa: E402

SMOKE = dict(labels='100', draws=1, n_train=1000, n_test=200, m1_epochs=10, m2_steps=10, n_generated=200, classifier_steps=10)


def summary(rows: list[dict]) -> dict:
    "Mean and standard deviation over label draws, per L and figure."
    out = {}
    for L in sorted({r['n_labels'] for r in rows}):
        rs = [r for r in rows if r['n_labels'] == L]
        out[str(L)] = {k: dict(mean=round(statistics.mean(r[k] for r in rs), 4),
                               std=round(statistics.stdev(r[k] for r in rs), 4) if len(rs) > 1 else None, n=len(rs))
                       for k in ('vae_classifier', 'hidden_labels', 'real_only', 'real_plus_generated', 'mlp_real_only', 'mlp_real_plus_generated',
                                 'reader_agreement', 'seconds') if all(k in r for r in rs)}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--labels', default='100,600,1000,3000', help='comma-separated L values (default: 100,600,1000,3000)')
    ap.add_argument('--draws', type=int, default=3, help='label draws per L (default: 3)')
    ap.add_argument('--augment', default='100', help='L values that also get the augmentation experiment (default: 100)')
    ap.add_argument('--out', type=Path, help='JSON with every run, the summary and the cost (required but with --smoke)')
    ap.add_argument('--ship', action='store_true', help='write the L=100 draw-0 model to the package as ssvae-100')
    ap.add_argument('--no-seed', action='store_true', help='skip the seed reference (no cost ratio)')
    ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                    help='override an SSVAEConfig field for M2, e.g. --set classifier=mlp --set consistency=0 --set steps=4000 (JSON values)')
    ap.add_argument('--recipes', default='cnn,mlp', help="classifier recipes of the augmentation experiment (default: cnn,mlp)")
    ap.add_argument('--work', type=Path, help='folder for the runs (default: a new temporary one); runs finished there are reused')
    ap.add_argument('--m1', type=Path, help='a finished M1 run folder (from an earlier run of this script) to reuse '
                    'instead of training one, its seconds taken from its history.json; or a bundled SSVAE\'s name '
                    '(e.g. ssvae-100): the M1 inside it (no seconds: run with --no-seed)')
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}; "
                    "--ship writes into the work folder, never the package")
    a = ap.parse_args(argv)
    if a.out is None and not a.smoke: ap.error('the following arguments are required: --out')
    if a.smoke:
        smoke_guard(ap, a.out, a.work)
        a.labels, a.draws, a.ship = SMOKE['labels'], SMOKE['draws'], a.m1 is None  # a reused M1 may have no seconds to ship with
    sys.path.insert(0, str(REPO))
    from vae_mnist.data import load_mnist
    from vae_mnist.runs import save_model
    from vae_mnist.files import atomic_write, atomic_write_text
    from vae_mnist.core import pretrained_dir
    from vae_mnist.model import VAEConfig, load_pretrained, pretrained_names
    from vae_mnist.evaluate import few_labels_run
    from vae_mnist.own_labels import ssvae_card
    from vae_mnist.semisupervised import SSVAEConfig
    from vae_mnist.train import train
    tmp = tempfile.TemporaryDirectory() if a.smoke and a.work is None else None  # removed when the script ends
    work = a.work or (Path(tmp.name) if tmp else Path(tempfile.mkdtemp()))
    a.out = a.out or work/'few_labels.json'
    ship_dir = work/'assets' if a.smoke else pretrained_dir()  # where --ship writes the model
    sizes = dict(n_generated=SMOKE['n_generated'], classifier_steps=SMOKE['classifier_steps']) if a.smoke else {}  # else few_labels_run's
    res = dict(command='python bench/few_labels.py ' + ' '.join(argv if argv is not None else sys.argv[1:]), runs=[])
    if a.out.exists() and 'before' in (earlier := json.loads(a.out.read_text())): res['before'] = earlier['before']  # an earlier recipe's figures, kept
    save = lambda: atomic_write(a.out, lambda p: Path(p).write_text(json.dumps(res, indent=1) + '\n'))
    if not a.no_seed:
        print(f"the seed as written, {SEED_SMOKE['epochs'] if a.smoke else 25} epochs ...", flush=True)
        seed = run_seed(epochs=25, seed=0, dataset='mnist') if not a.smoke else \
            run_seed(epochs=SEED_SMOKE['epochs'], seed=0, dataset='mnist', n_train=SMOKE['n_train'], n_test=SMOKE['n_test'])
        res['seed_s'] = round(seed['build_s'] + seed['fit_s'], 1)
    data = load_mnist()
    if a.smoke: data = tuple((xs[:k], ys[:k]) for (xs, ys), k in zip(data, (SMOKE['n_train'], SMOKE['n_test'])))
    (x, y), (x_test, y_test) = data
    if a.m1 and str(a.m1) in pretrained_names():
        m1 = load_pretrained(str(a.m1)).m1
        assert m1.config == VAEConfig.from_dict(SSVAEConfig().m1), f"{a.m1}: its M1 is not one of SSVAEConfig().m1"
        if a.ship or not a.no_seed: ap.error(f"--m1 {a.m1}: a bundled model's M1 has no training seconds of its own; add --no-seed (and no --ship)")
        res['m1_note'] = f"M1 reused from inside the bundled {a.m1}"
    elif a.m1:
        from vae_mnist.model import load_model
        m1 = load_model(a.m1/'model.keras')
        assert m1.config == VAEConfig.from_dict(SSVAEConfig().m1), f"{a.m1}: not an M1 of SSVAEConfig().m1"
        res['m1_s'] = round(sum(h['seconds'] for h in json.loads((a.m1/'history.json').read_text())), 1)
        res['m1_note'] = f"M1 reused from {a.m1} (an earlier run); m1_s is the sum of its epochs' seconds"
    else:
        print(f"M1 ({len(x):,} images, no labels) ...", flush=True)
        t0 = time.perf_counter()
        m1_config = VAEConfig.from_dict({**SSVAEConfig().m1, **({'epochs': SMOKE['m1_epochs']} if a.smoke else {})})
        m1, _ = train(m1_config, ((x, None), (x[:1000], None)), work/'m1', verbose=0)
        res['m1_s'] = round(time.perf_counter() - t0, 1)
    save()
    augment = {int(s) for s in a.augment.split(',') if s}
    sets = dict(kv.split('=', 1) for kv in a.set)
    for k, v in sets.items():
        try: sets[k] = json.loads(v)  # numbers, true/false; a bare word stays a string
        except ValueError: pass
    smoke_steps = dict(steps=SMOKE['m2_steps'], steps_per_epoch=SMOKE['m2_steps']) if a.smoke else {}
    config = SSVAEConfig.from_dict({**SSVAEConfig().to_dict(), **smoke_steps, **sets})
    for L in (int(s) for s in a.labels.split(',')):
        for draw in range(a.draws):
            row = few_labels_run(data, L, draw, m1, work, config=config, augment=L in augment, recipes=tuple(a.recipes.split(',')), **sizes)
            res['runs'].append(row); res['summary'] = summary(res['runs'])
            if L == 100 and draw == 0 and 'm1_s' in res:
                res['ssvae_100_s'] = round(res['m1_s'] + row['seconds'], 1)
                if 'seed_s' in res: res['cost_ratio'] = round(res['ssvae_100_s'] / res['seed_s'], 2)
                if a.ship:
                    import keras
                    model = keras.saving.load_model(work/'L100-draw0'/'model.keras')
                    card = ssvae_card(model, x, y, (x_test, y_test), 'ssvae-100', res['ssvae_100_s'])
                    ship_dir.mkdir(parents=True, exist_ok=True)
                    save_model(model, ship_dir/'ssvae-100.keras')
                    atomic_write_text(ship_dir/'ssvae-100.json', json.dumps(card, indent=1))
                    from vae_mnist.sampler import save_density
                    from vae_mnist.semisupervised import fit_ssvae_density
                    save_density(fit_ssvae_density(model, x), ship_dir/'ssvae-100.latent.npz')  # where generate draws
            save(); print(json.dumps(row), flush=True)
    print(json.dumps(res.get('summary'), indent=1))
    if 'cost_ratio' in res:
        print(f"ssvae-100 trained in {res['ssvae_100_s']:.0f} s (M1 {res['m1_s']:.0f} s); the seed as written {res['seed_s']:.0f} s: "
              f"ratio {res['cost_ratio']:.1f}x (target: at most 20x)")


if __name__ == '__main__': main()
