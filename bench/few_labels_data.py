"""Few labels, data that adds (issue 19, item 1 and 2): what an SSVAE's 22,699 digits are worth to an independent CNN.

For one SSVAE (one label draw) and each idea named in --ideas, a training set is made and a plain CNN (the reader's
shape, *no* shifts, 1,800 steps: `train_classifier(kind='cnn', shift=0)`) is trained on it alone and scored on the real
10,000-image test set. Ideas:
- `prior_drawn`: z ~ N(0, I), each digit labelled with the label it was drawn for (what ssvae-100 gave before);
- `prior_clf`: the same digits, labelled by the SSVAE's own classifier q(y|x);
- `fitted_drawn`: z from a Gaussian mixture per class fitted to M2's codes of the training images, each image under
  the classifier's label (`fit_ssvae_density`), labelled with the label drawn for;
- `fitted_clf`: the same digits, labelled by the SSVAE's own classifier (the shipped default since issue 19);
- `pseudo`: no generation: the 22,699 real training images labelled by the SSVAE's classifier (`vae-mnist label`);
- `pseudo_plus_fitted_clf`: both sets together (45,398 digits).
The SSVAE saw only its 100 labels; the CNN never sees a real label. Each row is appended to --out as one JSON line.

    python bench/few_labels_data.py --model ssvae-100 --draw 0 --out F.jsonl
    python bench/few_labels_data.py --model RUN/model.keras --draw 1 --ideas fitted_clf,prior_drawn --out F.jsonl
    python bench/few_labels_data.py --smoke      # ssvae-100, draw 0, every idea on 300 + 200 images, 10 CNN steps: seconds

With --smoke, --model and --draw default to ssvae-100 and 0, --out to a temporary file (never in the package).
"""
import argparse, json, sys, tempfile, time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard  # noqa: E402
IDEAS = ('prior_drawn', 'prior_clf', 'fitted_drawn', 'fitted_clf', 'pseudo', 'pseudo_plus_fitted_clf')
SMOKE = dict(model='ssvae-100', draw=0, n_train=300, n_test=200, steps=10)  # `--smoke`: the same code on a tiny size


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    ap.add_argument('--model', help='a bundled SSVAE (ssvae-100) or an SSVAE .keras file (required but with --smoke)')
    ap.add_argument('--draw', type=int, help="the model's label draw; also the seed of generation and of the CNN (required but with --smoke)")
    ap.add_argument('--ideas', default=','.join(IDEAS), help=f"comma-separated (default: all: {','.join(IDEAS)})")
    ap.add_argument('--out', type=Path, help='JSON lines, one per idea (appended; required but with --smoke)')
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    a = ap.parse_args(argv)
    missing = [f for f, v in (('--model', a.model), ('--draw', a.draw), ('--out', a.out)) if v is None]
    if missing and not a.smoke: ap.error(f"the following arguments are required: {', '.join(missing)}")
    steps = None  # the CNN recipe's own (1,800), but under --smoke
    if a.smoke:
        smoke_guard(ap, a.out)
        tmp = tempfile.TemporaryDirectory()  # removed when the script ends
        a.model = a.model or SMOKE['model']
        a.draw, a.out, steps = SMOKE['draw'] if a.draw is None else a.draw, a.out or Path(tmp.name)/'few_labels_data.jsonl', SMOKE['steps']
    sys.path.insert(0, str(REPO))
    import keras
    from vae_mnist.classifier import classify, train_classifier
    from vae_mnist.data import load_mnist
    from vae_mnist.generate import generate
    from vae_mnist.model import load_pretrained
    from vae_mnist.semisupervised import fit_ssvae_density
    (x, y), (x_test, y_test) = load_mnist()
    if a.smoke: (x, y), (x_test, y_test) = (x[:SMOKE['n_train']], y[:SMOKE['n_train']]), (x_test[:SMOKE['n_test']], y_test[:SMOKE['n_test']])
    model = keras.saving.load_model(a.model) if a.model.endswith('.keras') else load_pretrained(a.model)
    own = lambda images: model.predict_proba(images).argmax(1).astype('uint8')  # the SSVAE's own classifier
    y_own = own(x)
    density = fit_ssvae_density(model, x)
    for idea in a.ideas.split(','):
        t0 = time.perf_counter()
        if idea == 'pseudo': xs, ys = x, y_own
        else:
            g = generate(model, len(x), seed=a.draw, sampler='prior' if idea.startswith('prior') else density, labeller='drawn')
            xs, ys = g.x, (g.y if idea.endswith('drawn') else own(g.x))
            if idea.startswith('pseudo_plus'): xs, ys = np.concatenate([x, xs]), np.concatenate([y_own, ys])
        cnn = train_classifier(xs, ys, steps=steps, kind='cnn', shift=0, seed=a.draw)
        row = dict(model=a.model, draw=a.draw, idea=idea, n=len(xs), independent_cnn=round(float((classify(cnn, x_test)[0] == y_test).mean()), 4),
                   ssvae_classifier=round(float((own(x_test) == y_test).mean()), 4), seconds=round(time.perf_counter() - t0, 1))
        if idea == 'pseudo': row['label_accuracy'] = round(float((y_own == y).mean()), 4)  # how many of the given labels are right
        print(json.dumps(row), flush=True)
        with open(a.out, 'a') as f: f.write(json.dumps(row) + '\n')


if __name__ == '__main__': main()
