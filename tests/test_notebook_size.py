"""Notebooks stay light enough for git, GitHub's viewer and Quarto: under a size limit, with no vendored JavaScript.

The notebooks are the source, so every byte of their saved outputs is in the git history. Plotly figures carry their
JSON and a small HTML part that loads plotly.js by reference (`plotly_mimetype+notebook_connected`), never plotly.js
itself; saved widget state holds only @jupyter-widgets models (what the static site can draw), never a FigureWidget's
copy of plotly.js and of its figure (`make execute` drops those). `problems` says what is wrong and how to fix it.
"""
import json
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
LIMIT = 1_500_000  # bytes per notebook; the largest, 09_results, is about 1.4 MB (two 10,000-point plotly scatters)
SCRIPT_LIMIT = 50_000  # bytes of JavaScript inline in one output: more is a vendored library
WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'
FIX_PLOTLY = ("display plotly figures with `pio.renderers.default = 'plotly_mimetype+notebook_connected'` (JSON plus "
              "plotly.js by reference), then `make execute NB={nb}`")
_inline_script = re.compile(r'<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>', re.S | re.I)


def _text(v) -> str: return ''.join(v) if isinstance(v, list) else v if isinstance(v, str) else json.dumps(v)


def problems(path: Path, limit: int = LIMIT) -> list[str]:
    "What makes notebook `path` too heavy to commit, each with how to fix it; empty when it is fine."
    nb, out, outputs = nbformat.read(path, as_version=4), [], []
    name = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []):
            outputs.append((len(json.dumps(o)), f'cell {i}'))
            for mime, v in o.get('data', {}).items():
                t = _text(v)
                if mime == 'text/html' or 'javascript' in mime:
                    scripts = _inline_script.findall(t) if mime == 'text/html' else [t]
                    # a plotly figure's own script is its data (Plotly.newPlot(...)): the size limit covers that
                    big = max((len(s) for s in scripts if 'Plotly.newPlot(' not in s or '* plotly.js v' in s), default=0)
                    if '* plotly.js v' in t or 'define("plotly"' in t:
                        out.append(f"cell {i}: an inline copy of plotly.js ({len(t) / 1e6:.1f} MB): "
                                   + FIX_PLOTLY.format(nb=name))
                    elif big > SCRIPT_LIMIT:
                        out.append(f"cell {i}: {big / 1e3:.0f} kB of inline JavaScript in a {mime} output (a vendored "
                                   "library?): load it by reference (<script src=...>) instead of pasting it")
    state = (nb.metadata.get('widgets', {}).get(WIDGET_STATE) or {}).get('state') or {}
    foreign = {m.get('model_module', '?') + ' ' + m.get('model_name', '?') for m in state.values()
               if not str(m.get('model_module', '')).startswith('@jupyter-widgets/')}
    if foreign:
        out.append(f"saved widget state of {', '.join(sorted(foreign))} (its own JavaScript and data, which the "
                   f"static site cannot draw): re-run with `make execute NB={name}`, which leaves it out")
    outputs.append((len(json.dumps(nb.metadata.get('widgets', {}))), 'saved widget state'))
    size = path.stat().st_size
    if size > limit:
        top = ', '.join(f"{where}: {n / 1e3:.0f} kB" for n, where in sorted(outputs, reverse=True)[:3])
        out.append(f"{size / 1e6:.2f} MB, over the {limit / 1e6:.1f} MB limit (largest outputs: {top}): keep saved "
                   "outputs small (plotly by reference, fewer or smaller images), then `make execute`")
    return out


NOTEBOOKS = sorted((REPO / 'nbs').glob('*.ipynb'))


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_light(nb):
    found = problems(nb)
    assert not found, f"{nb.relative_to(REPO)} is too heavy to commit:\n- " + '\n- '.join(found)


def _notebook(tmp_path, outputs, widgets=None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell('fig', outputs=outputs))
    if widgets: nb.metadata['widgets'] = {WIDGET_STATE: {'state': widgets, 'version_major': 2, 'version_minor': 0}}
    p = tmp_path / 'nb.ipynb'
    nbformat.write(nb, p)
    return p


def _figure():
    import plotly.graph_objects as go
    return go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 0, 2]))


def test_inline_plotly_fails(tmp_path):
    "What plotly's default `notebook` renderer saves, plotly.js pasted into the HTML, is caught (size and content)."
    import plotly.io as pio
    html = pio.to_html(_figure(), include_plotlyjs=True, full_html=False)
    p = _notebook(tmp_path, [nbformat.v4.new_output('display_data', {'text/html': html})])
    found = problems(p)
    assert any('inline copy of plotly.js' in m and 'notebook_connected' in m for m in found), found
    assert any('over the 1.5 MB limit' in m for m in found), found
    small = problems(p, limit=100_000_000)
    assert len(small) == 1 and 'plotly.js' in small[0], small  # caught even under the size limit


def test_other_vendored_javascript_fails(tmp_path):
    js = 'function f(){return 1}\n' * 5000
    p = _notebook(tmp_path, [nbformat.v4.new_output('display_data', {'text/html': f'<div></div><script>{js}</script>'}),
                             nbformat.v4.new_output('display_data', {'text/html': f'<script>Plotly.newPlot({js})</script>'}),
                             nbformat.v4.new_output('display_data', {'application/javascript': js})])
    found = problems(p)
    assert sum('inline JavaScript' in m for m in found) == 2, found


def test_figure_widget_state_fails(tmp_path):
    "A FigureWidget's saved state (an anywidget model) is caught; the @jupyter-widgets models beside it are fine."
    state = {'a': {'model_module': 'anywidget', 'model_name': 'AnyModel', 'model_module_version': '~0.9.*', 'state': {}},
             'b': {'model_module': '@jupyter-widgets/controls', 'model_name': 'FloatSliderModel',
                   'model_module_version': '2.0.0', 'state': {}}}
    found = problems(_notebook(tmp_path, [], state))
    assert len(found) == 1 and 'anywidget AnyModel' in found[0] and 'make execute' in found[0], found
    del state['a']
    assert problems(_notebook(tmp_path, [], state)) == []


def test_connected_plotly_passes(tmp_path):
    "A figure saved as our notebooks save it (JSON + HTML that loads plotly.js by reference) is light."
    import plotly.io as pio
    fig = _figure().to_dict()
    data = {}
    for r in ('plotly_mimetype', 'notebook_connected'): data.update(pio.renderers[r].to_mimebundle(fig))
    assert 'cdn.plot.ly' in data['text/html']
    assert problems(_notebook(tmp_path, [nbformat.v4.new_output('display_data', data)])) == []
