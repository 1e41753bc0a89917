"""Run notebooks in place so their saved outputs (what the docs show) are fresh, the way nbdev would.

Cells marked `#| eval: false` are not run (nbconvert alone would run them: nbdev's directives mean nothing to it),
TensorFlow's C++ start-up log lines (oneDNN, CUDA probing), which it writes to the process's stderr before
Python can configure logging, are dropped from the saved outputs; real warnings are kept.
What is saved stays small (tests/test_notebook_size.py checks it): saved widget state keeps only the models of
@jupyter-widgets (sliders, images, text: what the static site draws); models whose JavaScript lives elsewhere, such
as plotly's FigureWidget (an anywidget carrying plotly.js and its whole figure), are dropped. PNG outputs of at
most 256 colours (our greyscale digit figures) are re-encoded losslessly (greyscale or palette PNGs), about half the size;
opaque PNGs of more colours lose their alpha channel (RGB), about a tenth smaller.
Usage: python tools/execute_nbs.py nbs/01_data.ipynb [...]   (run from the repository root; cwd is each notebook's folder)
"""
import argparse, base64, io, re, sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

if str(Path(__file__).resolve().parent) not in sys.path: sys.path.insert(0, str(Path(__file__).resolve().parent))
import nbtools  # noqa: E402

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

def drop_foreign_widgets(nb) -> int:
    "Drop saved widget models not from @jupyter-widgets (and references to them); returns how many were dropped."
    return len(nbtools.drop_foreign_widgets(nb))

def smaller_png(b64: str) -> str:
    """A PNG (base64) re-encoded losslessly, when smaller: as greyscale, or else as a palette of at most 256 colours,
    or else (more colours, all opaque) as RGB without the alpha channel."""
    import numpy as np
    from PIL import Image
    raw = base64.b64decode(b64)
    im = Image.open(io.BytesIO(raw))
    px = np.asarray(im.convert('RGBA'))
    if im.getcolors(256) is None:  # more than 256 colours: drop an alpha channel that is all opaque, else as it is
        if im.mode != 'RGBA' or not (px[..., 3] == 255).all(): return b64
        small = Image.fromarray(np.ascontiguousarray(px[..., :3]), 'RGB')
    elif (px[..., 3] == 255).all() and (px[..., :1] == px[..., 1:3]).all(): small = Image.fromarray(px[..., 0], 'L')
    else:
        colors, index = np.unique(px.reshape(-1, 4), axis=0, return_inverse=True)
        small = Image.fromarray(index.reshape(px.shape[:2]).astype(np.uint8), 'P')
        small.putpalette(colors[:, :3].tobytes(), 'RGB')
        if (colors[:, 3] < 255).any(): small.info['transparency'] = colors[:, 3].tobytes()
    out = io.BytesIO(); small.save(out, 'png', optimize=True)
    assert (np.asarray(Image.open(io.BytesIO(out.getvalue())).convert('RGBA')) == px).all(), "not lossless"
    return base64.b64encode(out.getvalue()).decode() if out.tell() < len(raw) else b64

def slim_images(cell):
    for o in cell.get('outputs', []):
        d = o.get('data', {})
        if 'image/png' in d: d['image/png'] = smaller_png(d['image/png'])

def execute(path: Path):
    nb = nbformat.read(path, as_version=4)
    skipped = [c for c in nb.cells if c.cell_type == 'code' and NO_EVAL.search(c.source)]
    for c in skipped: c.metadata.setdefault('tags', []).append('skip-execution')
    NotebookClient(nb, timeout=1800, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    for c in skipped:
        c.metadata['tags'].remove('skip-execution')
        if not c.metadata['tags']: del c.metadata['tags']
    for c in nb.cells:
        if c.cell_type == 'code': strip_noise(c); slim_images(c)
    dropped = drop_foreign_widgets(nb)
    nbformat.write(nb, path)
    print(f"executed {path} ({len(skipped)} cells marked eval: false skipped, {dropped} saved widget models "
          f"the static site cannot draw dropped); {path.stat().st_size / 1e6:.2f} MB")

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', type=Path, metavar='NB', help='notebooks to run and save in place')
    for p in ap.parse_args(argv).notebooks: execute(p)

if __name__ == '__main__': main()
