"Info (nbs/15a_info.ipynb): what `vae-mnist info` reports, in plain words, and its table in line."
import contextlib
import io

from vae_mnist import data
from vae_mnist.info import info, print_info


def test_info_lists_the_bundled_models_and_the_default(monkeypatch):
    i = info()
    assert {'seed', 'mlp', 'cvae', 'digits', 'ssvae-100'} <= set(i['models'])
    assert [n for n, c in i['models'].items() if c['default']] == ['digits']
    assert i['models']['cvae']['fitted_sampler'] and not i['models']['seed']['fitted_sampler']
    assert i['classifier']['test_accuracy'] > 0.98


def test_no_local_mnist_is_said_plainly(monkeypatch, tmp_path):
    monkeypatch.delenv('VAE_MNIST_DATA', raising=False)
    monkeypatch.setenv('KERAS_HOME', str(tmp_path))
    monkeypatch.setitem(data.KNOWN_DIRS, 'mnist', ())
    said = info()['data']
    assert said.startswith('no copy on this machine yet') and 'downloads' in said and 'VAE_MNIST_DATA' in said
    assert 'downloads are off' not in said  # info itself never downloads; that is not the user's setting
    assert not any(tmp_path.iterdir())  # and nothing was fetched or made


def test_the_table_keeps_its_columns():
    out = io.StringIO()
    with contextlib.redirect_stdout(out): print_info(info())
    lines = out.getvalue().splitlines()
    rows = lines[1:lines.index('trained on:')]  # the header, then a model a row
    starts = {l.index(l.split()[1], len(l.split()[0]) + 2) for l in rows}  # where each row's preset name begins
    assert len(rows) >= 6 and len(starts) == 1, out.getvalue()
    assert max(map(len, lines)) <= 100, out.getvalue()  # a long name or line no longer runs past the terminal
