"""The floor under `train_speed.py`: the `seed` recipe in raw TensorFlow, with no Keras at all.

Same model (784-64-16-8-2 ReLU MLP, latent 2, Glorot-uniform weights, zero biases), same loss (784·MSE + KL of
N(z_mean, exp(z_log_var))), same optimizer (Adam 1e-3 with Keras's formula and epsilon), batch 16, a seeded shuffle
every epoch, validation on the 10,000 test images after every epoch. Written the fastest way we know on a CPU: one
XLA-compiled call per epoch running every optimizer step in a `tf.while_loop` and then the validation pass,
variables updated in place, noise from stateless Philox keyed by (seed, epoch, step), no callbacks, no checkpoint.

It answers one question: how much of `train()`'s time is Keras and our features, and how much is this machine.
The clock starts before the variables are made (after the data is in memory), as `train_speed.py` times `train()`.

    python bench/train_floor.py                     # 3 runs, each in a fresh process
    python bench/train_floor.py --target 38.44 --seed-seconds 39.5   # the seed's loss and wall time, from train_speed.py
    python bench/train_floor.py --smoke            # 1 run of 2 epochs on 512 training and 1,000 test images: seconds
"""
import argparse, json, statistics, subprocess, sys, time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'bench'))
from seed_reference import smoke_guard, worker_env  # noqa: E402

SMOKE = dict(runs=1, epochs=2, n_train=512, n_test=1000)  # `--smoke`: the same code on a tiny size (validation is in 1,000s)


def run_floor(epochs=25, seed=0, target=None, n_train=None, n_test=None) -> dict:
    "One floor run in a fresh process: its timings and losses as a dict. `n_train`, `n_test`: only the first images."
    env = worker_env()
    cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', '--epochs', str(epochs), '--seed', str(seed)]
    if target is not None: cmd += ['--target', str(target)]
    if n_train is not None: cmd += ['--n-train', str(n_train)]
    if n_test is not None: cmd += ['--n-test', str(n_test)]
    p = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if p.returncode != 0: raise RuntimeError(f"floor worker failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _worker(epochs, seed, target, n_train=None, n_test=None):
    "One run in this process; prints one JSON line."
    import numpy as np
    import tensorflow as tf
    sys.path.insert(0, str(REPO))
    from vae_mnist.core import flatten, normalize
    from vae_mnist.data import load_mnist
    (x, _), (xv, _) = load_mnist()
    x, xv = x[:n_train], xv[:n_test]  # None: all
    x, xv = tf.constant(flatten(normalize(x))), tf.constant(flatten(normalize(xv)))
    n_steps, n_val = len(x) // 16, len(xv) // 1000

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    def dense(i, o):
        lim = np.sqrt(6 / (i + o))
        return tf.Variable(rng.uniform(-lim, lim, (i, o)).astype('float32')), tf.Variable(tf.zeros(o))
    enc = [dense(784, 64), dense(64, 16), dense(16, 8)]
    z_mean, z_log_var = dense(8, 2), dense(8, 2)
    dec = [dense(2, 8), dense(8, 16), dense(16, 64), dense(64, 784)]
    params = [v for layer in enc + [z_mean, z_log_var] + dec for v in layer]
    m = [tf.Variable(tf.zeros_like(v)) for v in params]
    s = [tf.Variable(tf.zeros_like(v)) for v in params]
    step_count = tf.Variable(0.0)

    def terms(xb, key):  # per-image reconstruction (784 * MSE) and KL
        h = xb
        for w, b in enc: h = tf.nn.relu(h @ w + b)
        mu, lv = h @ z_mean[0] + z_mean[1], h @ z_log_var[0] + z_log_var[1]
        z = mu + tf.exp(0.5 * lv) * tf.random.stateless_normal(tf.shape(mu), key, alg='philox')
        for w, b in dec[:-1]: z = tf.nn.relu(z @ w + b)
        x_hat = tf.sigmoid(z @ dec[-1][0] + dec[-1][1])
        return tf.reduce_sum(tf.square(xb - x_hat), -1), -0.5 * tf.reduce_sum(1 + lv - mu * mu - tf.exp(lv), -1)

    @tf.function(jit_compile=True, autograph=False)
    def epoch(index, epoch_no):
        def step(i, total):
            xb = tf.gather(x, index[i])
            with tf.GradientTape() as tape:
                rec, kl = terms(xb, tf.stack([epoch_no, i]))
                loss = tf.reduce_mean(rec + kl)
            grads = tape.gradient(loss, params)
            step_count.assign_add(1.0)
            alpha = 1e-3 * tf.sqrt(1 - 0.999 ** step_count) / (1 - 0.9 ** step_count)
            for v, mv, sv, g in zip(params, m, s, grads):
                mv.assign_add((g - mv) * (1 - 0.9))
                sv.assign_add((g * g - sv) * (1 - 0.999))
                v.assign_sub(mv * alpha / (tf.sqrt(sv) + 1e-7))
            return i + 1, total + loss
        _, total = tf.while_loop(lambda i, t: i < n_steps, step, (0, 0.0), parallel_iterations=1)
        def val(i, total):
            rec, kl = terms(tf.slice(xv, [i * 1000, 0], [1000, 784]), tf.stack([-1 - epoch_no, i]))
            return i + 1, total + tf.reduce_sum(rec + kl)
        _, val_total = tf.while_loop(lambda i, t: i < n_val, val, (0, 0.0), parallel_iterations=1)
        return total / n_steps, val_total / (n_val * 1000)

    order = lambda e: tf.constant(np.random.default_rng([seed, e]).permutation(len(x))[:n_steps * 16]
                                  .reshape(n_steps, 16).astype('int32'))
    built = time.perf_counter() - t0
    epoch.get_concrete_function(order(0), tf.constant(0))
    traced = time.perf_counter() - t0
    ends, losses, val_losses = [], [], []
    for e in range(epochs):
        loss, val_loss = epoch(order(e), tf.constant(e))
        losses.append(float(loss)); val_losses.append(float(val_loss)); ends.append(time.perf_counter() - t0)
    reached = next((i for i, v in enumerate(val_losses) if target is not None and v <= target), None)
    print(json.dumps(dict(build_s=built, trace_s=traced - built, first_epoch_end_s=ends[0],
                          epoch_s=statistics.median(b - a for a, b in zip(ends, ends[1:])),
                          epoch_end_s=ends, loss=losses, val_loss=val_losses, target=target,
                          reached_epoch=None if reached is None else reached + 1,
                          reached_s=None if reached is None else ends[reached])))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=3, help='runs, each in a fresh process')
    ap.add_argument('--epochs', type=int, default=25)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--target', type=float, default=38.44, help="test loss to reach (the seed's true loss)")
    ap.add_argument('--seed-seconds', type=float, default=None, help="the seed's wall time, for the ratio")
    ap.add_argument('--json', type=Path, default=None, help='also write every run here')
    ap.add_argument('--n-train', type=int, default=None, help='use only the first N training images')
    ap.add_argument('--n-test', type=int, default=None, help='use only the first N test images (a multiple of 1,000)')
    ap.add_argument('--smoke', action='store_true', help=f"a tiny run of the same code, to check it works: {SMOKE}")
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker: return _worker(a.epochs, a.seed, a.target, a.n_train, a.n_test)
    if a.smoke:
        a.runs, a.epochs, a.n_train, a.n_test = SMOKE['runs'], SMOKE['epochs'], SMOKE['n_train'], SMOKE['n_test']
        smoke_guard(ap, a.json)
    if a.n_test is not None and (a.n_test < 1000 or a.n_test % 1000): ap.error('--n-test: a multiple of 1,000 (validation runs in chunks of 1,000)')
    runs = [run_floor(a.epochs, a.seed, a.target, a.n_train, a.n_test) for _ in range(a.runs)]
    med = lambda k: statistics.median(r[k] for r in runs)
    print(f"raw TensorFlow, no Keras: {a.runs} run(s) of {a.epochs} epochs, batch 16, validation every epoch")
    print(f"  make variables {med('build_s'):.2f} s, trace {med('trace_s'):.2f} s, "
          f"first epoch (XLA compile + run) ends at {med('first_epoch_end_s'):.2f} s, then {med('epoch_s'):.3f} s per epoch")
    print(f"  all {a.epochs} epochs: {statistics.median(r['epoch_end_s'][-1] for r in runs):.2f} s; "
          f"final test loss {statistics.median(r['val_loss'][-1] for r in runs):.2f}")
    hit = [r for r in runs if r['reached_s'] is not None]
    if hit:
        t = statistics.median(r['reached_s'] for r in hit)
        ratio = f"; 1/{a.seed_seconds / t:.1f} of the seed's {a.seed_seconds:.1f} s" if a.seed_seconds else ''
        print(f"  reached test loss {a.target} after epoch {hit[0]['reached_epoch']} in {len(hit)} of {a.runs} runs, "
              f"at {t:.2f} s (median){ratio}")
    else:
        print(f"  never reached test loss {a.target} in {a.epochs} epochs")
    if a.json: a.json.parent.mkdir(parents=True, exist_ok=True); a.json.write_text(json.dumps(runs, indent=1))


if __name__ == '__main__':
    main()
