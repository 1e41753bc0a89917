"""Fuzzing the readers: whatever the bytes, `read_idx`/`read_csv`/`read_npz` return a correct result or raise `DataError`.

Any other exception (numpy, gzip, zlib, zipfile, pandas) escaping a reader fails these tests: nothing is whitelisted.
"""
import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from vae_mnist.data import DataError, read_csv, read_idx, read_npz, write_csv, write_idx

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
IDX_TYPES = {0x08: 'u1', 0x09: 'i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}


@pytest.fixture(scope='module')
def scratch(tmp_path_factory): return tmp_path_factory.mktemp('fuzz')


class Files(dict):
    def __repr__(self): return f"<valid files {sorted(self)}>"  # (keeps Hypothesis's failure reports short)


@pytest.fixture(scope='module')
def valid(scratch, small):
    "Small valid files of real digits: raw IDX, gzipped IDX, labels IDX, a CSV of 2 rows, an npz."
    (xa, ya), (xb, yb) = small
    np.savez_compressed(scratch/'v.npz', x_train=xa[:2], y_train=ya[:2], x_test=xb[:1], y_test=yb[:1])
    return Files(idx=write_idx(scratch/'v.idx', xa[:3]).read_bytes(), idx_gz=write_idx(scratch/'v.idx.gz', xa[:3]).read_bytes(),
                labels=write_idx(scratch/'l.idx', ya[:40]).read_bytes(),
                csv=write_csv(scratch/'v.csv', xa[:2], ya[:2]).read_bytes(), npz=(scratch/'v.npz').read_bytes())


def check_idx(raw: bytes, got: np.ndarray):
    "`got` is what the IDX bytes `raw` (gunzipped if need be) declare: the header's type and shape, the payload's values."
    if raw[:2] == b'\x1f\x8b': raw = gzip.decompress(raw)
    code, ndim = raw[2], raw[3]
    shape = struct.unpack(f'>{ndim}I', raw[4:4 + 4*ndim])
    assert raw[:2] == b'\0\0' and got.shape == shape and got.dtype == np.dtype(IDX_TYPES[code]).newbyteorder('=')
    assert got.astype(IDX_TYPES[code]).tobytes() == raw[4 + 4*ndim:]


def check_csv(got):
    x, y = got
    assert x.dtype == np.uint8 and x.ndim == 3 and x.shape[1:] == (28, 28) and len(x) > 0
    assert y.dtype == np.uint8 and y.shape == (len(x),) and int(y.max()) <= 9


def attempt(reader, path, raw):
    "Write `raw` to `path` and read it: the result, or None after a `DataError` that names the file."
    path.write_bytes(raw)
    try: return reader(path)
    except DataError as e:
        assert str(e).startswith(f"{path}: ") and '\n' not in str(e)
        return None


def test_unmutated_files_read(scratch, valid, small):
    # the mutation tests start from these: they must be valid, or those tests would only ever see errors
    (xa, ya), (xb, yb) = small
    for key, want in (('idx', xa[:3]), ('idx_gz', xa[:3]), ('labels', ya[:40])):
        got = attempt(read_idx, scratch/'unmutated', valid[key]); check_idx(valid[key], got)
        np.testing.assert_array_equal(got, want)
    x, y = attempt(read_csv, scratch/'unmutated.csv', valid['csv'])
    np.testing.assert_array_equal(x, xa[:2]); np.testing.assert_array_equal(y, ya[:2])
    (x, y), (xt, yt) = attempt(read_npz, scratch/'unmutated.npz', valid['npz'])
    np.testing.assert_array_equal(x, xa[:2]); np.testing.assert_array_equal(yt, yb[:1])


# (1) random bytes, gzipped or not

maybe_gz = st.tuples(st.binary(max_size=600), st.booleans()).map(lambda t: gzip.compress(t[0]) if t[1] else t[0])
# headers the IDX decoder takes seriously: a real magic, random type code, dimensions and payload
idx_like = st.builds(lambda code, dims, payload: bytes([0, 0, code, len(dims)]) + struct.pack(f'>{len(dims)}I', *dims) + payload,
                     st.sampled_from([*IDX_TYPES, 0x07, 0x0A]), st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 6), max_size=4),
                     st.binary(max_size=64))


@FUZZ
@given(raw=maybe_gz | idx_like | idx_like.map(gzip.compress))
def test_random_bytes_read_idx(scratch, raw):
    got = attempt(read_idx, scratch/'random.idx', raw)
    if got is not None: check_idx(raw, got)


@FUZZ
@given(raw=maybe_gz | st.text(alphabet='label,0123456789x\n -.\r"', max_size=400).map(str.encode))
def test_random_bytes_read_csv(scratch, raw):
    got = attempt(read_csv, scratch/'random.csv', raw)
    if got is not None: check_csv(got)


# (2) valid files with bytes flipped, inserted or deleted

def mutations(max_pos=10**6, max_ops=4):
    "Lists of (what, where, byte) edits; `where` is taken modulo the file's length."
    op = st.tuples(st.sampled_from(['flip', 'insert', 'delete']), st.integers(0, max_pos), st.integers(0, 255))
    return st.lists(op, min_size=1, max_size=max_ops)


def mutate(raw: bytes, ops) -> bytes:
    b = bytearray(raw)
    for kind, where, byte in ops:
        if kind == 'insert': b.insert(where % (len(b) + 1), byte)
        elif b and kind == 'flip': b[where % len(b)] ^= byte or 1
        elif b: del b[where % len(b)]
    return bytes(b)


@FUZZ
@given(which=st.sampled_from(['idx', 'idx_gz', 'labels']), ops=mutations() | mutations(max_pos=15))  # anywhere, or in the header
def test_mutated_idx(scratch, valid, which, ops):
    raw = mutate(valid[which], ops)
    got = attempt(read_idx, scratch/'mutated.idx', raw)
    if got is not None: check_idx(raw, got)


@FUZZ
@given(gz=st.booleans(), ops=mutations())
def test_mutated_csv(scratch, valid, gz, ops):
    raw = mutate(gzip.compress(valid['csv']) if gz else valid['csv'], ops)
    got = attempt(read_csv, scratch/('mutated.csv.gz' if gz else 'mutated.csv'), raw)
    if got is not None: check_csv(got)


@settings(FUZZ, max_examples=100)
@given(ops=mutations())
def test_mutated_npz(scratch, valid, ops):
    got = attempt(read_npz, scratch/'mutated.npz', mutate(valid['npz'], ops))
    if got is not None:
        for x, y in got: check_csv((x, y))
