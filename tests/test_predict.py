"Predict (nbs/03a_predict.ipynb): batches padded to few shapes, results as one eager call, and under JAX one compile per shape."
import numpy as np
import pytest

import keras
from vae_mnist.generate import generate, load_generator
from vae_mnist.predict import _COMPILED, padded_size, predict_batches


def test_a_chunk_runs_at_the_batch_size_or_a_power_of_two():
    assert [padded_size(k, 2048) for k in (1, 63, 64, 65, 1000, 1808, 2048)] == [64, 64, 64, 128, 1024, 2048, 2048]
    assert all(padded_size(k, 100) <= 100 for k in range(1, 101))


def test_batches_give_what_one_call_gives():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation='relu'), keras.layers.Dense(3)])
    x = np.random.default_rng(0).normal(size=(1000, 5)).astype('float32')
    whole = keras.ops.convert_to_numpy(net(x))
    for bs in (1000, 300, 64):
        np.testing.assert_allclose(predict_batches(net, f'k{bs}', net, [x], batch_size=bs), whole, atol=1e-5)
    assert predict_batches(net, 'k64', net, [x[:0]], empty=(3,)).shape == (0, 3)
    with pytest.raises(ValueError, match='no rows'): predict_batches(net, 'k64', net, [x[:0]])


def test_generation_compiles_its_decoder_once_per_shape():
    "Two generate calls of other sizes: the decoder compiled for the full batch is reused, the odd last batch padded to it."
    model = load_generator('cvae')
    a = generate(model, 2500, seed=0)  # decoded in a chunk of 2,048, then 452 padded to 512
    b = generate(model, 4100, seed=1)  # 2,048, 2,048, then 4 padded to 64
    c = generate(model, 2500, seed=0)
    assert len(a) == 2500 and len(b) == 4100 and np.array_equal(a.x, c.x) and np.array_equal(a.y, c.y)
    decode = _COMPILED[model]['decode']
    if keras.backend.backend() == 'jax': assert decode.jitted._cache_size() == 3  # 2,048, 512 and 64 rows; nothing more
