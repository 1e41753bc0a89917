"""How much of the digits' classes M1's codes keep, for a few KL weights: the choice of `SSVAEConfig().m1`.

For each beta: the `conv` preset with latent_dim 32 trained 10 epochs on the training images without labels, then
on its code means (encoder means): the number of active dimensions (std > 0.3), 1-nearest-neighbour accuracy on the
real test set from 100 labelled digits (seed 0), and the accuracy of a classifier trained on **all** the training
labels (a ceiling for any semi-supervised model built on these codes; MLP 256-256, 20 epochs).

    python bench/m1_codes.py                 # beta 1 and 0.25: ~10 minutes on 2 cores
    python bench/m1_codes.py --betas 0.5
    python bench/m1_codes.py --smoke          # beta 1 only, on 1,000 + 200 images, 4 epochs and 1 classifier epoch: seconds
"""
import argparse, json, sys, tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# `--smoke`: the same code on a tiny size (M1's codes may well be collapsed: 64 steps)
SMOKE = dict(betas='1', n_train=1000, n_test=200, epochs=4, classifier_epochs=1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--betas', default=None, help=f"comma-separated (default: 1,0.25; with --smoke, {SMOKE['betas']})")
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    a = ap.parse_args(argv)
    a.betas = a.betas or (SMOKE['betas'] if a.smoke else '1,0.25')
    epochs, classifier_epochs = (SMOKE['epochs'], SMOKE['classifier_epochs']) if a.smoke else (10, 20)
    sys.path.insert(0, str(REPO))
    import keras
    from vae_mnist.data import load_mnist
    from vae_mnist.model import get_config
    from vae_mnist.semisupervised import label_split
    from vae_mnist.train import train
    (x, y), (xt, yt) = load_mnist()
    if a.smoke: (x, y), (xt, yt) = (x[:SMOKE['n_train']], y[:SMOKE['n_train']]), (xt[:SMOKE['n_test']], yt[:SMOKE['n_test']])
    xf, xtf = x.reshape(len(x), -1).astype('float32'), xt.reshape(len(xt), -1).astype('float32')
    idx = label_split(y, 100, seed=0)
    nn = lambda a, b: float((y[idx][((b[:, None] - a[idx][None]) ** 2).sum(-1).argmin(1)] == yt).mean())
    print(json.dumps(dict(pixels_1nn=nn(xf / 255, xtf / 255))), flush=True)
    for beta in (float(b) for b in a.betas.split(',')):
        with tempfile.TemporaryDirectory() as run:
            m1, _ = train(get_config('conv', latent_dim=32, beta=beta, epochs=epochs), ((x, None), (x[:1000], None)), Path(run), verbose=0)
        z, zt = m1.encode(x)[0], m1.encode(xt)[0]
        mu, sd = z.mean(0), z.std(0) + 1e-3
        keras.utils.set_random_seed(0)
        clf = keras.Sequential([keras.layers.Dense(256, activation='relu'), keras.layers.Dense(256, activation='relu'), keras.layers.Dense(10)])
        clf.compile('adam', keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=['accuracy'])
        clf.fit((z - mu) / sd, y, epochs=classifier_epochs, batch_size=128, verbose=0)
        print(json.dumps(dict(beta=beta, active=int((z.std(0) > 0.3).sum()), codes_1nn=nn(z, zt),
                              all_labels=round(float(clf.evaluate((zt - mu) / sd, yt, verbose=0)[1]), 4))), flush=True)


if __name__ == '__main__': main()
