"Export (nbs/12_export.ipynb): every format round-trips, one class per format, the writer's safety, the Hugging Face card."
import io
import json
import sys

import numpy as np
import pytest
import yaml

from vae_mnist.data import load_mnist, read_csv, read_idx
from vae_mnist.export import (FORMATS, DatasetWriter, Format, Synthetic, card_path, infer_format, register_format, save,
                              write_dataset)
from vae_mnist.results import digit_grid


@pytest.fixture(scope='module')
def sample(mnist_test):
    "700 real test digits as a labelled set with confidences (the writer cannot tell them from generated ones)."
    x, y = mnist_test
    return Synthetic(x[:700], y[:700], np.linspace(0.3, 1, 700, dtype='float32'))


def test_npz_round_trip(sample, tmp_path):
    with np.load(save(tmp_path/'s.npz', sample)) as f:
        assert np.array_equal(f['x'], sample.x) and np.array_equal(f['y'], sample.y)
        assert np.array_equal(f['confidence'], sample.confidence)
    with np.load(save(tmp_path/'c.npz', Synthetic(sample.x, sample.y), compress=True)) as f:
        assert np.array_equal(f['x'], sample.x) and 'confidence' not in f.files


@pytest.mark.parametrize('name', ['s.csv', 's.csv.gz'])
def test_csv_round_trips_through_the_data_module(sample, tmp_path, name):
    x, y = read_csv(save(tmp_path/name, sample))
    assert np.array_equal(x, sample.x) and np.array_equal(y, sample.y)


def test_idx_folder_loads_with_load_mnist(sample, tmp_path):
    d = save(tmp_path/'idx', sample, format='idx', n_test=200)
    (xa, ya), (xb, yb) = load_mnist(d)
    assert (len(xa), len(xb)) == (500, 200)
    assert np.array_equal(np.concatenate([xa, xb]), sample.x) and np.array_equal(np.concatenate([ya, yb]), sample.y)
    assert np.array_equal(np.load(d/'confidence.npy'), sample.confidence)
    assert read_idx(d/'t10k-labels-idx1-ubyte.gz').dtype == np.uint8
    with pytest.raises(ValueError, match='n_test < n'): save(tmp_path/'idx2', sample, format='idx', n_test=700)


def test_png_grid_and_folders(sample, tmp_path):
    from PIL import Image
    grid = np.asarray(Image.open(save(tmp_path/'g.png', sample, scale=1)))
    assert np.array_equal(grid, digit_grid(sample.x, sample.y))
    assert np.array_equal(grid[2:30, 2:30], 255 - sample.x[sample.y == 0][0])
    d = save(tmp_path/'pngs', sample, format='png-folders')
    for k in range(10):
        files = sorted((d/str(k)).glob('*.png'))
        assert len(files) == (sample.y == k).sum()
        assert np.array_equal(np.asarray(Image.open(files[0])), sample.x[sample.y == k][0])


def test_formats_from_names():
    assert [infer_format(p) for p in ('a.npz', 'a.CSV', 'a.csv.gz', 'a.png')] == ['npz', 'csv', 'csv', 'png']
    with pytest.raises(ValueError, match='cannot tell the format'): infer_format('a.txt')
    with pytest.raises(ValueError, match='unknown format'): infer_format('a', 'jpeg')


@pytest.mark.parametrize('name, fmt', [('a.npz', None), ('a.csv', None), ('d', 'idx'), ('g.png', None), ('p', 'png-folders'), ('h', 'parquet')])
def test_existing_output_is_refused_unless_forced(sample, tmp_path, name, fmt):
    path = save(tmp_path/name, sample, format=fmt)
    with pytest.raises(FileExistsError, match='already exists'): save(path, sample, format=fmt)
    small = Synthetic(sample.x[:70], sample.y[:70], sample.confidence[:70])
    save(path, small, format=fmt, force=True)
    if fmt == 'idx': assert len(load_mnist(path)[0][0]) == 60
    if name.endswith('.npz'):
        with np.load(path) as f: assert len(f['x']) == 70
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')], "temporary files left behind"


def test_failed_write_leaves_nothing(sample, tmp_path):
    for fmt, name in (('npz', 'a.npz'), ('idx', 'd'), ('csv', 'a.csv')):
        w = DatasetWriter(tmp_path/name, 100, fmt)
        w.write(Synthetic(sample.x[:40], sample.y[:40]))
        with pytest.raises(ValueError, match='got 40 digits, expected 100'): w.close()
        with pytest.raises(ValueError, match='more than the n=10'):
            with DatasetWriter(tmp_path/name, 10, fmt) as w2: w2.write(Synthetic(sample.x[:40], sample.y[:40]))
    assert list(tmp_path.iterdir()) == []


def test_parquet_is_a_hugging_face_dataset(sample, tmp_path):
    import pyarrow.parquet as pq  # a dev requirement; users get it with the [parquet] extra
    from PIL import Image
    info = write_dataset([Synthetic(sample.x[:400], sample.y[:400], sample.confidence[:400]),
                          Synthetic(sample.x[400:], sample.y[400:], sample.confidence[400:])], 700, tmp_path/'hf', 'parquet',
                         card=lambda info: dict(generator='digits', sampler='fitted', temperature=1.0, seed=0, labels='balanced',
                                                labelled_by='the conditional model', **{k: info[k] for k in ('n', 'counts', 'mean_confidence', 'files')}))
    assert info['files'] == ['data/'] and info['card'] == str(tmp_path/'hf'/'dataset.json')
    t = pq.read_table(tmp_path/'hf'/'data'/'train-00000-of-00001.parquet')
    assert t.column_names == ['image', 'label', 'confidence'] and t.num_rows == 700
    np.testing.assert_array_equal(t['label'].to_numpy(), sample.y)
    np.testing.assert_allclose(t['confidence'].to_numpy(), sample.confidence)
    imgs = np.stack([np.asarray(Image.open(io.BytesIO(d['bytes']))) for d in t['image'].to_pylist()])
    np.testing.assert_array_equal(imgs, sample.x)
    features = json.loads(t.schema.metadata[b'huggingface'])['info']['features']
    assert features['image'] == {'_type': 'Image'} and features['label']['names'] == [str(k) for k in range(10)]
    meta = yaml.safe_load((tmp_path/'hf'/'README.md').read_text().split('---')[1])
    assert meta['license'] == 'other' and meta['task_categories'] == ['image-classification'] and meta['source_model'] == 'digits'
    assert meta['size_categories'] == ['n<1K'] and meta['configs'][0]['data_files'][0]['path'] == 'data/train-*'
    assert [f['name'] for f in meta['dataset_info']['features']] == ['image', 'label', 'confidence']
    assert json.loads((tmp_path/'hf'/'dataset.json').read_text())['counts'] == np.bincount(sample.y, minlength=10).tolist()


def test_parquet_without_pyarrow_is_one_line_and_writes_nothing(sample, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'pyarrow', None)  # as if it were not installed
    with pytest.raises(ValueError, match=r"^\S*p: writing Parquet needs pyarrow, which is not installed; pip install 'vae_mnist\[parquet\]'"):
        save(tmp_path/'p', sample, format='parquet')
    assert list(tmp_path.iterdir()) == []


def test_a_new_format_is_one_class(sample, tmp_path):
    @register_format
    class Labels(Format):
        "The labels alone, one a line."
        name, suffixes, least = 'labels', ('.labels',), 2
        def open(self): self.f = open(self.w.tmp, 'w'); self.handles = [self.f]
        def write(self, b): self.f.writelines(f"{k}\n" for k in b.y)
        def close(self): self.f.close()
    try:
        assert infer_format('x.labels') == 'labels' and card_path('x.labels', 'labels').name == 'x.labels.json'
        assert (save(tmp_path/'s.labels', sample)).read_text().split() == [str(k) for k in sample.y]
        w = DatasetWriter(tmp_path/'t.labels', 10); w.write(Synthetic(sample.x[:4], sample.y[:4]))
        with pytest.raises(ValueError, match='got 4 digits, expected 10'): w.close()
        assert sorted(p.name for p in tmp_path.iterdir()) == ['s.labels']
    finally: del FORMATS['labels']


def test_every_format_is_a_cli_choice():
    from vae_mnist.cli import make_parser
    sub = next(a for a in make_parser()._actions if a.dest == 'command')
    for cmd in ('generate', 'label'):
        fmt = next(a for a in sub.choices[cmd]._actions if a.dest == 'format')
        assert list(fmt.choices) == list(FORMATS), cmd


def test_the_result_names_the_model_as_the_user_did(tmp_path):
    from vae_mnist.generate import load_generator, write_generated
    from vae_mnist.model import load_pretrained
    assert write_generated('cvae', 20, tmp_path/'a.npz')['model'] == 'cvae'
    assert write_generated(load_generator('ssvae-100'), 20, tmp_path/'b.npz')['model'] == 'ssvae-100'  # was 'ssvae'
    load_pretrained('cvae').save(tmp_path/'mine.keras')
    assert write_generated(str(tmp_path/'mine.keras'), 20, tmp_path/'c.npz')['model'] == str(tmp_path/'mine.keras')
