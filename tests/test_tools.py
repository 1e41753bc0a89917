"""tools/: the notebook helpers they share (tools/nbtools.py) on small real inputs, and every script starts (`--help`)."""
import base64
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO/'tools'
sys.path.insert(0, str(TOOLS))  # as `python tools/X.py` has it

import build_docs  # noqa: E402
import build_readme  # noqa: E402
import execute_nbs  # noqa: E402
import nbtools  # noqa: E402

CELL = "#| echo: false\n#|output:true\n  #| hide\n#| code-fold: show me\nx = 1  #| not a directive\n#| too late\nprint(x)"
VIEW = 'application/vnd.jupyter.widget-view+json'


def test_split_directives():
    src, d = nbtools.split_directives(CELL)
    assert d == {'echo': 'false', 'output': 'true', 'hide': '', 'code-fold': 'show me'}
    assert src == "x = 1  #| not a directive\n#| too late\nprint(x)"
    assert nbtools.split_directives('print(1)') == ('print(1)', {}) and nbtools.split_directives('') == ('', {})


def test_every_tool_uses_the_shared_code():
    assert build_docs.split_directives is build_readme.split_directives is nbtools.split_directives
    assert build_docs.drop_foreign_widgets is nbtools.drop_foreign_widgets and execute_nbs.nbtools is nbtools
    for f in ('build_docs.py', 'build_readme.py', 'execute_nbs.py'):  # written once: no copy left behind
        text = (TOOLS/f).read_text()
        assert '_directive = re.compile' not in text and "startswith('@jupyter-widgets/')" not in text, f


def widget_notebook() -> nbformat.NotebookNode:
    """A notebook whose saved widget state holds a slider inside a box (@jupyter-widgets: kept) and an anywidget (plotly's
    FigureWidget, say: dropped), the box and an Output widget referring to it, and a cell showing each widget."""
    nb = nbformat.v4.new_notebook()
    model = lambda module, name, **state: dict(model_module=module, model_name=name, model_module_version='*', state=state)
    nb.metadata['widgets'] = {nbtools.WIDGET_STATE_MIME: {'version_major': 2, 'version_minor': 0, 'state': {
        'slider': model('@jupyter-widgets/controls', 'IntSliderModel', value=3, layout='IPY_MODEL_layout'),
        'layout': model('@jupyter-widgets/base', 'LayoutModel'),
        'fig': model('anywidget', 'AnyModel', _esm='...plotly.js...'),
        'box': model('@jupyter-widgets/controls', 'VBoxModel', children=['IPY_MODEL_slider', 'IPY_MODEL_fig']),
        'out': model('@jupyter-widgets/output', 'OutputModel', outputs=[{'output_type': 'stream', 'text': 'hi'}], msg_id='IPY_MODEL_fig'),
    }}}
    show = lambda k: nbformat.v4.new_output('display_data', data={VIEW: {'model_id': k, 'version_major': 2}, 'text/plain': k})
    nb.cells = [nbformat.v4.new_code_cell('box', outputs=[show('box')]), nbformat.v4.new_code_cell('fig', outputs=[show('fig')])]
    return nb


def test_drop_foreign_widgets():
    nb = widget_notebook()
    dropped = nbtools.drop_foreign_widgets(nb)
    assert list(dropped) == ['fig'] and dropped['fig']['model_module'] == 'anywidget'
    state = nbtools.widget_state(nb)
    assert sorted(state) == ['box', 'layout', 'out', 'slider']  # the notebook's own dict, changed in place
    assert state['box']['state']['children'] == ['IPY_MODEL_slider'] and state['out']['state']['msg_id'] is None
    assert state['slider']['state']['layout'] == 'IPY_MODEL_layout' and state['out']['state']['outputs'][0]['text'] == 'hi'
    assert nbtools.drop_foreign_widgets(nb) == {} and nbtools.widget_state(nbformat.v4.new_notebook()) == {}


def test_execute_nbs_counts_what_it_drops():
    nb = widget_notebook()
    assert execute_nbs.drop_foreign_widgets(nb) == 1 and 'fig' not in nbtools.widget_state(nb)
    assert nb.cells[1].outputs[0]['data'][VIEW]['model_id'] == 'fig'  # outputs are the docs build's business


def test_build_docs_shows_a_note_for_a_dropped_widget(capsys):
    nb = widget_notebook()
    build_docs.drop_unrenderable_widgets(nb, 'x.ipynb')
    assert "x.ipynb: 1 saved widget(s) cannot render offline (AnyModel from anywidget)" in capsys.readouterr().out
    assert VIEW in nb.cells[0].outputs[0]['data']  # the box stays
    assert 'widget-unavailable' in nb.cells[1].outputs[0]['data']['text/html']


def test_build_docs_to_myst(tmp_path):
    "A processed notebook through the Sphinx translation: title, `#|` directives as tags, widgets, doc links."
    nb = widget_notebook()
    nb.cells.insert(0, nbformat.v4.new_raw_cell("---\ntitle: Data\ndescription: Reading digits\n---"))
    nb.cells.append(nbformat.v4.new_markdown_cell("See [train](https://example.org/vae_mnist/train.html#train) and [x](02_data.ipynb)."))
    nb.cells.append(nbformat.v4.new_code_cell("#| echo: false\n#| output: false\nprint(1)"))
    src = tmp_path/'proc'/'02_data.ipynb'; src.parent.mkdir(); nbformat.write(nb, src)
    (tmp_path/'sphinx').mkdir()
    pages, plotly_pages, widget_pages = build_docs.to_myst([src], tmp_path/'sphinx', 'https://example.org/vae_mnist')
    assert pages == {'02_data': 'data'} and plotly_pages == set() and widget_pages == {'data'}
    out = nbformat.read(tmp_path/'sphinx'/'data.ipynb', as_version=4)
    assert out.cells[0].source == "# Data\n\n> Reading digits\n"
    assert out.cells[-2].source == "See [train](train.html#train) and [x](data.html)."
    assert out.cells[-1].source == 'print(1)' and out.cells[-1].metadata.tags == ['remove-input', 'remove-output']
    assert 'fig' not in nbtools.widget_state(out) and 'widget-unavailable' in out.cells[2].outputs[0]['data']['text/html']


def test_build_readme_render(tmp_path):
    png = base64.b64encode(b'\x89PNG fake').decode()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell("---\ntitle: vae_mnist\ndescription: left out\n---"),
        nbformat.v4.new_markdown_cell("Some *text*."),
        nbformat.v4.new_code_cell("#| echo: false\nprint('hidden code')", outputs=[nbformat.v4.new_output('stream', text='shown\n')]),
        nbformat.v4.new_code_cell("#| include: false\nsecret()", outputs=[nbformat.v4.new_output('stream', text='no\n')]),
        nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output('display_data', data={'image/png': png})])])
    md = build_readme.render(nb, tmp_path/'files', 'index_files/figure-commonmark')
    assert md == ("# vae_mnist\n\n\nSome *text*.\n\n    shown\n\n``` python\nplot()\n```\n\n"
                  "![](index_files/figure-commonmark/cell-4-output-1.png)\n")
    assert (tmp_path/'files'/'cell-4-output-1.png').read_bytes() == b'\x89PNG fake'


def run_tool(*args) -> subprocess.CompletedProcess:
    "`python ARGS` from the repository root, as the Makefile runs the tools (nothing extra on PYTHONPATH)."
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=120, env={**os.environ, 'PYTHONPATH': ''})


@pytest.mark.parametrize('module', sorted(p.stem for p in TOOLS.glob('*.py')))
def test_tool_imports(module):
    "Every tools/*.py imports cleanly in a fresh process, with tools/ on sys.path as `python tools/X.py` has it."
    r = run_tool('-c', f"import sys; sys.path.insert(0, 'tools'); import {module}")
    assert r.returncode == 0 and r.stderr == '', r.stderr


@pytest.mark.parametrize('script', ['build_docs.py', 'build_readme.py', 'execute_nbs.py', 'layers.py', 'nbtools.py'])
def test_tool_help(script):
    "The scripts that take `--help` exit 0 and say what they do (execute_nbs.py used to run a notebook named --help)."
    r = run_tool(f'tools/{script}', '--help')
    assert r.returncode == 0 and r.stderr == '', r.stderr
    assert r.stdout.startswith('usage:') or script in ('nbtools.py', 'layers.py'), r.stdout
    assert len(r.stdout.strip()) > 40


def test_layers_prints_the_table():
    r = run_tool('tools/layers.py')
    assert r.returncode == 0 and r.stdout.startswith('| notebook | module | imports | what it holds |'), r.stderr
    assert "| `01_core.ipynb` | `core` | — |" in r.stdout and "`16_cli.ipynb` | `cli`" in r.stdout
