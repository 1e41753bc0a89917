"""The project's seed notebook (a Keras 2 MLP VAE), run as written, as the training benchmark's reference.

The seed does not run on Keras 3, so its code runs here under tf-keras in a separate process started with
`TF_USE_LEGACY_KERAS=1` set before TensorFlow is imported (Keras 3 and tf-keras never share a process).
`run_seed()` starts that process (`python bench/seed_reference.py --worker ...`) and returns the JSON it prints.

Kept from the seed on purpose: `z_log_sigma` is used as log(sigma) when sampling (`exp(z_log_sigma) * eps`)
but as log(sigma^2) in the KL term; the KL term is built from the encoder's own layer tensors, so the
functional `vae` graph runs the encoder layers twice per step (once inside `encoder`, once for the loss).
Changes needed to run it under tf-keras: none (imports come from `tf_keras` instead of `keras`).

    python bench/seed_reference.py --epochs 25                       # the seed on the offline MNIST set
    python bench/seed_reference.py --epochs 2 --dataset fashion_mnist
    python bench/seed_reference.py --smoke                           # 1 epoch on 256 training and 256 test images: seconds
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent/'shared'/'data'/'mnist-22k'  # the offline MNIST the Makefile points VAE_MNIST_DATA at
SMOKE = dict(epochs=1, n_train=256, n_test=256)  # `--smoke`: the same code on a tiny size (also used by the scripts that run the seed)


def smoke_guard(ap, *paths):
    "`--smoke` writes nothing into the package or bench/: an output path there is refused (every bench script uses this)."
    for p in paths:
        if p is not None and any(Path(p).resolve().is_relative_to(REPO/d) for d in ('vae_mnist', 'bench')):
            ap.error(f"--smoke writes nothing into vae_mnist/ or bench/; not {p}")


def worker_env(dataset='mnist', **extra) -> dict:
    "The environment for a benchmark worker process: this one's, quieter, pointed at the offline MNIST if unset."
    env = dict(os.environ, **extra)
    env.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    if dataset == 'mnist' and 'VAE_MNIST_DATA' not in env and (SHARED_MNIST/'t10k-images-idx3-ubyte.gz').exists():
        env['VAE_MNIST_DATA'] = str(SHARED_MNIST)
    return env


def run_seed(epochs=25, batch_size=16, seed=0, n_train=None, dataset='mnist', n_test=None) -> dict:
    "Train the seed in a fresh tf-keras process; its timings, history and test losses as a dict."
    env = worker_env(dataset, TF_USE_LEGACY_KERAS='1')
    cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', '--epochs', str(epochs),
           '--batch-size', str(batch_size), '--seed', str(seed), '--dataset', dataset]
    if n_train is not None: cmd += ['--n-train', str(n_train)]
    if n_test is not None: cmd += ['--n-test', str(n_test)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"seed worker failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
    res = json.loads(p.stdout.strip().splitlines()[-1])
    # Everything the process spent outside `fit`: interpreter start, imports, data, model build, evaluation.
    res.update(subprocess_s=wall, overhead_s=wall - res['fit_s'])
    return res


def _worker(epochs, batch_size, seed, n_train, dataset, n_test=None):
    "The seed's code (tf-keras); prints one JSON line. Must run in a fresh process."
    t_start = time.perf_counter()
    os.environ['TF_USE_LEGACY_KERAS'] = '1'  # before TensorFlow is imported
    import random
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras
    from tf_keras import backend as K, layers
    import_s = time.perf_counter() - t_start
    sys.path.insert(0, str(REPO))
    from vae_mnist.core import flatten, normalize
    from vae_mnist.data import load_mnist

    random.seed(seed); np.random.seed(seed); tf.random.set_seed(seed)

    # --- seed: data preparation (float32 / 255, flattened to 784)
    (x_train, _), (x_test, _) = load_mnist(dataset=dataset)
    x_train, x_test = flatten(normalize(x_train)), flatten(normalize(x_test))
    if n_train is not None: x_train = x_train[:n_train]
    if n_test is not None: x_test = x_test[:n_test]
    t_build = time.perf_counter()

    # --- seed: encoder
    original_dim, latent_dim = 784, 2
    inputs = keras.Input(shape=(original_dim,))
    h = layers.Dense(64, activation='relu')(inputs)
    h = layers.Dense(16, activation='relu')(h)
    h = layers.Dense(8, activation='relu')(h)
    z_mean = layers.Dense(latent_dim, name='z_mean')(h)
    z_log_sigma = layers.Dense(latent_dim, name='z_log_sigma')(h)

    def sampling(args):
        z_mean, z_log_sigma = args
        epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim), mean=0., stddev=1.)
        return z_mean + K.exp(z_log_sigma) * epsilon  # sigma = exp(z_log_sigma)

    z = layers.Lambda(sampling)([z_mean, z_log_sigma])
    encoder = keras.Model(inputs, [z_mean, z_log_sigma, z], name='encoder')

    # --- seed: decoder and the end-to-end VAE
    latent_inputs = keras.Input(shape=(latent_dim,), name='z_sampling')
    d = layers.Dense(8, activation='relu')(latent_inputs)
    d = layers.Dense(16, activation='relu')(d)
    d = layers.Dense(64, activation='relu')(d)
    decoded = layers.Dense(original_dim, activation='sigmoid')(d)
    decoder = keras.Model(latent_inputs, decoded, name='decoder')
    outputs = decoder(encoder(inputs)[2])
    vae = keras.Model(inputs, outputs, name='vae_mlp')

    # --- seed: loss on symbolic tensors (KL reads z_log_sigma as a log-variance: the seed's inconsistency)
    reconstruction_loss = keras.losses.mse(inputs, outputs) * original_dim
    kl_loss = -0.5 * K.sum(1 + z_log_sigma - K.square(z_mean) - K.exp(z_log_sigma), axis=-1)
    vae_loss = K.mean(reconstruction_loss + kl_loss)
    vae.add_loss(vae_loss)
    vae.compile(optimizer='adam')
    setup_s = time.perf_counter() - t_start - import_s
    build_s = time.perf_counter() - t_build  # building and compiling the model (after the data is in memory)

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None): self.times = []
        def on_epoch_begin(self, epoch, logs=None): self.t0 = time.perf_counter()
        def on_epoch_end(self, epoch, logs=None): self.times.append(time.perf_counter() - self.t0)

    # --- seed: training (timed around `fit` only; an epoch includes its validation pass, as in the seed)
    timer = EpochTimer()
    t0 = time.perf_counter()
    hist = vae.fit(x_train, x_train, epochs=epochs, batch_size=batch_size,
                   validation_data=(x_test, x_test), verbose=0, callbacks=[timer])
    fit_s = time.perf_counter() - t0

    # Test loss as ours is computed: mean over test images of 784 * MSE(x, x_hat) + KL (the seed's KL formula).
    t0 = time.perf_counter()
    zm, zls, zs = encoder.predict(x_test, batch_size=1000, verbose=0)
    kl = -0.5 * np.sum(1 + zls - zm**2 - np.exp(zls), axis=-1)
    def loss_from(zz):
        rec = original_dim * np.mean((x_test - decoder.predict(zz, batch_size=1000, verbose=0))**2, axis=-1)
        return float(np.mean(rec + kl)), float(np.mean(rec))
    test_loss, test_rec = loss_from(zs)      # stochastic z, as the seed's val_loss
    test_loss_mean_z, _ = loss_from(zm)      # deterministic z = z_mean
    # The seed samples with sigma = exp(z_log_sigma), so the KL of the distribution it really draws from is
    # that of N(z_mean, exp(2 * z_log_sigma)): the honest negative ELBO, comparable with our presets' losses.
    kl_true = -0.5 * np.sum(1 + 2 * zls - zm**2 - np.exp(2 * zls), axis=-1)
    test_loss_true = test_rec + float(np.mean(kl_true))
    eval_s = time.perf_counter() - t0

    print(json.dumps(dict(
        dataset=dataset, n_train=len(x_train), n_test=len(x_test), epochs=epochs, batch_size=batch_size, seed=seed,
        fit_s=fit_s, epoch_s=statistics.median(timer.times), epoch_times=timer.times,
        history={k: [float(v) for v in hist.history[k]] for k in ('loss', 'val_loss')},
        test_loss=test_loss, test_loss_mean_z=test_loss_mean_z, test_recon=test_rec, test_kl=float(np.mean(kl)),
        test_kl_true=float(np.mean(kl_true)), test_loss_true=test_loss_true,
        import_s=import_s, setup_s=setup_s, build_s=build_s, eval_s=eval_s,
        versions=dict(tensorflow=tf.__version__, tf_keras=keras.__version__))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=25)
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--n-train', type=int, default=None, help='use only the first N training images')
    ap.add_argument('--n-test', type=int, default=None, help='use only the first N test images (validation and test loss)')
    ap.add_argument('--dataset', default='mnist', choices=['mnist', 'fashion_mnist'])
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.smoke:
        a.epochs, a.n_train, a.n_test = SMOKE['epochs'], SMOKE['n_train'], SMOKE['n_test']
    args = (a.epochs, a.batch_size, a.seed, a.n_train, a.dataset, a.n_test)
    if a.worker: return _worker(*args)
    print(json.dumps(run_seed(*args), indent=1))


if __name__ == '__main__':
    main()
