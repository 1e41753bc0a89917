"""Run notebooks in place so their saved outputs (what the docs show) are fresh, the way nbdev would.

Cells marked `#| eval: false` are not run (nbconvert alone would run them: nbdev's directives mean nothing to it),
and TensorFlow's C++ start-up log lines (oneDNN, CUDA probing), which it writes to the process's stderr before
Python can configure logging, are dropped from the saved outputs; real warnings are kept.
Usage: python tools/execute_nbs.py nbs/01_data.ipynb [...]   (run from the repository root; cwd is each notebook's folder)
"""
import re, sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} \d\d:\d\d:\d\d|"
                   r"To enable the following instructions|\s*$)")
NO_EVAL = re.compile(r"^\s*#\s*\|\s*eval\s*:\s*false", re.M)

def strip_noise(cell):
    outs = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream' and o.get('name') == 'stderr':
            keep = [l for l in o['text'].splitlines(keepends=True) if not NOISE.match(l)]
            if not keep: continue
            o['text'] = ''.join(keep)
        outs.append(o)
    cell['outputs'] = outs

def execute(path: Path):
    nb = nbformat.read(path, as_version=4)
    skipped = [c for c in nb.cells if c.cell_type == 'code' and NO_EVAL.search(c.source)]
    for c in skipped: c.metadata.setdefault('tags', []).append('skip-execution')
    NotebookClient(nb, timeout=1800, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    for c in skipped:
        c.metadata['tags'].remove('skip-execution')
        if not c.metadata['tags']: del c.metadata['tags']
    for c in nb.cells:
        if c.cell_type == 'code': strip_noise(c)
    nbformat.write(nb, path)
    print(f"executed {path} ({len(skipped)} cells marked eval: false skipped)")

if __name__ == '__main__':
    for p in sys.argv[1:]: execute(Path(p))
