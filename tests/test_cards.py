"Cards (nbs/11a_cards.ipynb): the measured figures a dataset card quotes, and the Hugging Face README."
import json

import pytest
import yaml

from vae_mnist.cards import hf_readme, shipped_quality, today, usefulness
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
