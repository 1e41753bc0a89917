"Cards (nbs/11a_cards.ipynb): the measured figures a dataset card quotes, and the Hugging Face README."
import json

import numpy as np
import pytest
import yaml

from vae_mnist.cards import hf_readme, mix_in, mixing_rule, shipped_quality, today, usefulness
from vae_mnist.core import pretrained_dir


def test_shipped_quality_is_the_row_measured():
    q = json.loads((pretrained_dir()/'quality.json').read_text())
    row = next(r for r in q['rows'] if (r['model'], r['sampler'], r.get('threshold', 0)) == ('digits', 'fitted', 0))
    got = shipped_quality('digits', 'fitted')
    assert got['agreement'] == row['agreement'] and got['real_reference'] == q['real_reference'] and got['measured_by'] == q['command']
    assert shipped_quality('nope', 'fitted') is None


def test_usefulness_rows():
    u = usefulness(100)
    assert (u['n_labels'], u['generator']) == (100, 'ssvae') and 'measured_by' in u
    assert usefulness(100, 'nobody') is None


def test_mixing_rule_is_the_nearest_measured_n_at_or_below():
    rules = sorted(json.loads((pretrained_dir()/'mixing.json').read_text())['rules'], key=lambda r: r['n_labels'])
    assert [r['n_labels'] for r in rules] == [100, 300, 1000, 3000]
    for r in rules:
        got = mixing_rule(r['n_labels'] + 1)
        assert (got['n_labels'], got['n_ours'], got['real_share'], got['for_labels']) == (r['n_labels'], r['n_ours'], r['real_share'], r['n_labels'] + 1)
        assert got['advice'].startswith(f"with {r['n_labels'] + 1:,} real labels: add ") and 'measured_by' in got
    assert mixing_rule(10)['n_labels'] == 100 and mixing_rule(60_000)['n_labels'] == 3000


def test_mixing_rule_without_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr('vae_mnist.cards.pretrained_dir', lambda: tmp_path)
    assert mixing_rule(100) is None


def test_mix_in_repeats_the_real_digits_to_their_share():
    xr, yr = np.zeros((10, 28, 28), np.uint8), np.arange(10, dtype=np.uint8)
    xo, yo = np.full((300, 28, 28), 255, np.uint8), np.full(300, 3, np.uint8)
    for share, real in ((None, 10), (0.5, 300), (0.8, 1200)):
        x, y = mix_in(xr, yr, xo, yo, real_share=share)
        assert ((x.max((1, 2)) == 0).sum(), len(x)) == (real, real + 300) and (y[:real] == np.tile(yr, real // 10)).all()
    x, y = mix_in(xr, yr, xo, yo, rule=dict(n_ours=50, real_share=0.5, chosen='whatever', advice='a mixing_rule dict'))
    assert len(x) == 100 and (y[-50:] == 3).all()
    assert len(mix_in(xr, yr, xo, yo, n_ours=0, real_share=0.5)[0]) == 10
    with pytest.raises(ValueError, match='real_share'): mix_in(xr, yr, xo, yo, real_share=0)


@pytest.mark.parametrize('n, size', [(999, 'n<1K'), (10_000, '10K<n<100K'), (2_000_000, '1M<n<10M')])
def test_hf_readme_header(n, size):
    card = dict(generator='cvae', sampler='prior', temperature=0.8, seed=1, labels='balanced', labelled_by='the conditional model',
                n=n, counts=[n // 10] * 10, mean_confidence=0.9, created=today())
    text = hf_readme(card)
    meta = yaml.safe_load(text.split('---')[1])
    assert meta['size_categories'] == [size] and meta['source_model'] == 'cvae' and meta['pretty_name'] == 'Synthetic MNIST digits from cvae'
    assert [f['name'] for f in meta['dataset_info']['features']] == ['image', 'label', 'confidence']
    assert meta['dataset_info']['splits'] == [{'name': 'train', 'num_examples': n}]
    assert '# Synthetic MNIST digits from cvae' in text and 'temperature 0.8' in text


def test_hf_readme_of_labelled_real_digits():
    card = dict(kind='real images with predicted labels', source='my_digits/', labels='predicted', labelled_by='ssvae-100',
                n=30, counts=[3] * 10, mean_confidence=0.8, created=today())
    meta = yaml.safe_load(hf_readme(card).split('---')[1])
    assert meta['tags'][0] == 'predicted-labels' and meta['source_model'] == 'ssvae-100'
