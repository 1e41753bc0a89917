"""Notebook helpers the tools share: `#|` directives of a code cell, and saved widget state the static site cannot draw.

Imported by `build_docs.py`, `build_readme.py` and `execute_nbs.py` (run as `python tools/X.py`, so this folder is on
`sys.path`; each of them also puts it there when imported from elsewhere). `python tools/nbtools.py --help` says this.
"""
import re
import sys

WIDGET_STATE_MIME = 'application/vnd.jupyter.widget-state+json'
WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json'
_directive = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')


def split_directives(src: str):
    "Remove the leading `#| key: value` lines of a code cell; return (source, {key: value})."
    lines, d = src.splitlines(), {}
    while lines and (m := _directive.match(lines[0])):
        d[m.group(1)] = m.group(2); lines.pop(0)
    return '\n'.join(lines), d


def widget_state(nb) -> dict:
    "The saved widget models of a notebook, `{model id: model}` (the notebook's own dict: changes to it are saved; {} if none)."
    return (nb.metadata.get('widgets', {}).get(WIDGET_STATE_MIME) or {}).get('state') or {}


def drop_foreign_widgets(nb) -> dict:
    """Drop the saved widget models not from @jupyter-widgets (whose JavaScript @jupyter-widgets/html-manager lacks, e.g.
    anywidget's), and every reference to them in the models kept; returns the dropped ones, `{model id: model}`."""
    state = widget_state(nb)
    bad = {k for k, m in state.items() if not str(m.get('model_module', '')).startswith('@jupyter-widgets/')}
    refs = {f"IPY_MODEL_{k}" for k in bad}
    dropped = {k: state.pop(k) for k in bad}
    is_ref = lambda v: isinstance(v, str) and v in refs  # state values may be unhashable (an Output widget's outputs)
    for m in state.values():
        st = m.get('state', {})
        for a, v in st.items():
            if isinstance(v, list): st[a] = [x for x in v if not is_ref(x)]
            elif is_ref(v): st[a] = None
    return dropped


if __name__ == '__main__':
    if sys.argv[1:] and sys.argv[1] not in ('-h', '--help'): sys.exit(f"usage: {sys.argv[0]} [-h]: a module, not a command")
    print(__doc__.strip())
