#!/usr/bin/env python
"""Build the documentation site into `_docs/` offline: no Quarto, no network.

1. nbdev's own processing, through its Python API (`nbdev_sidebar`, then `nbdev.serve_drv.main` with nbdev's
   `FilterDefaults` processors, as `nbdev_proc_nbs` does, minus its Quarto install): show_doc entries, `#| hide`,
   doc links, frontmatter. Processed notebooks go to `_proc/`.
2. A small translation of what Quarto would read (frontmatter, `#|` directives, absolute doc links, numbered
   notebook names, plotly's JSON output) into what myst-nb reads, in `_proc/_sphinx/`. The notebooks load plotly.js
   by reference (plotly's `notebook_connected` HTML, for Quarto and GitHub); here each figure is redrawn from its
   JSON, or its CDN script tags are removed, and the page loads the site's own copy of plotly.js.
3. Sphinx + myst-nb (`nb_execution_mode = "off"`: the notebooks' saved outputs) + sphinx-book-theme render it,
   navigation from `nbs/sidebar.yml`. All JavaScript is served from the site: plotly.js from the plotly package,
   require.js, @jupyter-widgets/html-manager and MathJax 3 from `tools/docs_js` (`npm ci` there, run here when
   `node_modules` is missing; the versions are pinned in its package-lock.json).

Usage: python tools/build_docs.py [--nbs nbs] [--out _docs] [--proc _proc] [--n_workers 2] [--keep-going]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(Path(__file__).resolve().parent) not in sys.path: sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbtools import WIDGET_STATE_MIME, WIDGET_VIEW_MIME, drop_foreign_widgets, split_directives, widget_state  # noqa: E402,F401

JS = REPO / 'tools' / 'docs_js'
PLOTLY_MIME = 'application/vnd.plotly.v1+json'
# Files the site needs from tools/docs_js/node_modules: (source, destination under _static/vendor).
JS_FILES = [('requirejs/require.js', 'require.js'),
            ('@jupyter-widgets/html-manager/dist', 'html-manager'),
            ('mathjax/es5', 'mathjax'),
            ('mathjax/LICENSE', 'mathjax/LICENSE')]
MATHJAX_KEEP = ('tex-chtml.js', 'input', 'output/chtml', 'ui', 'a11y', 'sre', 'adaptors')


def log(*a): print('[build_docs]', *a, flush=True)


def process_one(o):
    "Run nbdev's processors on one notebook (a worker); returns an error message or None."
    import nbdev.serve_drv
    src, dst, procs = o
    try: nbdev.serve_drv.main((Path(src), Path(dst), procs))
    except Exception as e:  # report every failing notebook, not just the first
        cause = f"\n  caused by: {type(e.__cause__).__name__}: {e.__cause__}" if e.__cause__ else ''
        return f"{Path(src).name}: {e}{cause}"


def nbdev_process(nbs: Path, proc: Path, n_workers: int):
    "nbdev's docs processing of every notebook in `nbs` into `proc`; returns (processed paths, errors)."
    from fastcore.parallel import parallel
    from nbdev.doclinks import nbglob
    from nbdev.processors import FilterDefaults
    from nbdev.quarto import nbdev_sidebar
    nbdev_sidebar.__wrapped__(path=nbs)  # writes nbs/sidebar.yml from the notebook list (unless custom_sidebar)
    if proc.exists(): shutil.rmtree(proc)
    files = [Path(f) for f in nbglob(nbs, func=Path)]
    todo = []
    for f in files:
        d = proc / f.relative_to(nbs)
        d.parent.mkdir(parents=True, exist_ok=True)
        todo.append((str(f), str(d), FilterDefaults))
    sys.path.insert(0, str(Path(__file__).parent))  # spawned workers import the worker from this file by name
    from build_docs import process_one as worker
    errs = parallel(worker, todo, n_workers=n_workers, pause=0.01, method='spawn', progress=False)
    return [Path(d) for _, d, _ in todo], [e for e in errs if e]


def page_name(nb_path: Path, fm: dict) -> str:
    "The page name Quarto gives a processed notebook: its `output-file`, else its stem without the number prefix."
    if fm.get('output-file'): return Path(fm['output-file']).stem
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb_path.stem)


def read_frontmatter(nb) -> dict:
    import yaml
    for c in nb.cells[:2]:
        if c.cell_type == 'raw' and c.source.lstrip().startswith('---'):
            fm = yaml.safe_load(c.source.strip().strip('-')) or {}
            nb.cells.remove(c)
            return fm
    return {}


def is_plotly_init(o) -> bool:
    "Is this output the plotly.js loader that plotly's `notebook`/`notebook_connected` renderers display once?"
    h = o.get('data', {}).get('text/html', '')
    h = ''.join(h) if isinstance(h, list) else h
    return PLOTLY_MIME not in o.get('data', {}) and 'window.PlotlyConfig' in h and \
        ('* plotly.js v' in h or 'cdn.plot.ly' in h) and 'Plotly.newPlot' not in h


_re_cdn_script = re.compile(r'<script[^>]*\bsrc="https://(?:cdn\.plot\.ly|cdnjs\.cloudflare\.com/ajax/libs/mathjax)/'
                            r'[^"]*"[^>]*>\s*</script>')


def local_plotly(h) -> str:
    "A plotly HTML output that loads plotly.js (and MathJax) from a CDN, without those scripts: the page serves both."
    return _re_cdn_script.sub('', ''.join(h) if isinstance(h, list) else h)


def plotly_html(fig: dict) -> str:
    "An HTML div that draws a plotly figure saved as JSON, using the site's own plotly.js."
    import plotly.io as pio
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, validate=False,
                       config=fig.get('config') or None, default_width='100%')


_re_doc_head = re.compile(r'^(#{2,4}) +([\w.]+) *$', re.MULTILINE)


def showdoc_html(md: str) -> str:
    "show_doc markdown for docutils: no leading transition, and headings with nbdev's ids (`data.html#load_mnist`)."
    import html
    md = re.sub(r'^\s*---\s*\n', '<hr class="nbdev-rule">\n\n', md)
    return _re_doc_head.sub(lambda m: f'<h{len(m.group(1))} class="nbdev-doc" id="{html.escape(m.group(2).lower())}">'
                            f'{html.escape(m.group(2))}</h{len(m.group(1))}>\n', md)


def drop_unrenderable_widgets(nb, where: str):
    "Remove saved widgets whose JavaScript is not in @jupyter-widgets/html-manager (e.g. anywidget): they need a CDN."
    bad = drop_foreign_widgets(nb)
    if not bad: return
    names = sorted({m.get('model_name', '?') + ' from ' + m.get('model_module', '?') for m in bad.values()})
    log(f"warning: {where}: {len(bad)} saved widget(s) cannot render offline ({', '.join(names)}); shown as a note")
    for c in nb.cells:
        for o in c.get('outputs', []):
            view = o.get('data', {}).get(WIDGET_VIEW_MIME)
            if view and view.get('model_id') in bad:
                o['data'] = {'text/html': '<p class="widget-unavailable"><em>(An interactive widget that needs a '
                                          'running Python kernel: run the notebook to use it.)</em></p>'}


def make_linker(pages: dict, doc_url: str):
    "Rewrite links for the Sphinx site: absolute doc links -> relative, `NN_x.ipynb` -> `x.html`."
    stems = '|'.join(re.escape(s) for s in sorted(pages, key=len, reverse=True)) or r'(?!)'
    re_abs = re.compile(re.escape(doc_url.rstrip('/')) + r'/([\w.-]+\.html)(#[^)\s"]*)?')
    re_nb = re.compile(rf'(\]\(|href=")(?:\./)?({stems})\.ipynb(#[^)\s"]*)?')
    re_src = re.compile(r'\[source\]\(([^)\s]+)\)\{target="_blank" style="[^"]*"\}')

    def anchor(a): return a or ''  # nbdev's anchors (`#load_mnist`) are kept: show_doc headings get those ids
    def fix(text: str) -> str:
        text = re_src.sub(r'<a class="nbdev-source" href="\1" target="_blank">source</a>', text)
        text = re_abs.sub(lambda m: m.group(1) + anchor(m.group(2)), text)
        return re_nb.sub(lambda m: f"{m.group(1)}{pages[m.group(2)]}.html{anchor(m.group(3))}", text)
    return fix


def to_myst(procd: list, src_dir: Path, doc_url: str):
    "Translate nbdev-processed notebooks into myst-nb's input; returns {notebook stem: page name}, plotly pages."
    import nbformat
    nbs, pages = {}, {}
    for p in procd:
        if p.suffix != '.ipynb' or not p.exists(): continue
        nb = nbformat.read(p, as_version=4)
        fm = read_frontmatter(nb)
        nbs[p] = (nb, fm)
        pages[p.stem] = page_name(p, fm)
    fix, plotly_pages, widget_pages = make_linker(pages, doc_url), set(), set()
    for p, (nb, fm) in nbs.items():
        name = pages[p.stem]
        head = f"# {fm.get('title') or name}\n"
        if fm.get('description'): head += f"\n> {fm['description']}\n"
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(head))
        drop_unrenderable_widgets(nb, p.name)
        if widget_state(nb): widget_pages.add(name)
        for c in nb.cells:
            if c.cell_type == 'markdown': c.source = fix(c.source)
            if c.cell_type != 'code': continue
            c.source, d = split_directives(c.source)
            tags = c.metadata.setdefault('tags', [])
            if d.get('echo', '').lower() == 'false': tags.append('remove-input')
            if d.get('output', '').lower() == 'false': tags.append('remove-output')
            if d.get('include', '').lower() == 'false': tags.append('remove-cell')
            # plotly's notebook renderers first output plotly.js itself (inline or from its CDN): the site serves it
            c.outputs = [o for o in c.get('outputs', []) if not is_plotly_init(o)]
            for o in c.get('outputs', []):
                data = o.get('data', {})
                if PLOTLY_MIME in data:
                    o['data'] = {'text/html': plotly_html(data[PLOTLY_MIME])}
                    plotly_pages.add(name)
                elif 'text/html' in data and ('Plotly.newPlot' in data['text/html'] or 'cdn.plot.ly' in data['text/html']):
                    plotly_pages.add(name)
                if 'text/markdown' in data:  # show_doc's leading `---` is a transition docutils cannot nest
                    data['text/markdown'] = fix(showdoc_html(data['text/markdown']))
                elif 'text/html' in data and 'cdn.plot.ly' in data['text/html']:  # HTML only (no JSON): serve it here
                    data['text/html'] = local_plotly(data['text/html'])
                    plotly_pages.add(name)
        nbformat.write(nb, src_dir / f"{name}.ipynb")
    return pages, plotly_pages, widget_pages


def sidebar_toctree(nbs: Path, pages: dict) -> str:
    "A hidden toctree (MyST) in `nbs/sidebar.yml`'s order, one per section."
    import yaml
    sb = nbs / 'sidebar.yml'
    contents = yaml.safe_load(sb.read_text())['website']['sidebar']['contents'] if sb.exists() else \
        [f"{s}.ipynb" for s in sorted(pages)]
    def name(f): return pages.get(Path(str(f)).stem)
    groups, top = [], []
    for item in contents:
        if isinstance(item, dict):
            sec = [name(f) for f in item.get('contents', []) if isinstance(f, str) and name(f)]
            groups.append((item.get('section', ''), sec))
        elif name(item): top.append(name(item))
    groups.insert(0, ('', top))
    out = []
    for caption, names in groups:
        names = [n for n in names if n != 'index']
        if not names: continue
        cap = f":caption: {caption}\n" if caption else ''
        out.append("```{toctree}\n:hidden:\n:maxdepth: 1\n" + cap + '\n' + '\n'.join(names) + "\n```")
    return '\n\n'.join(out)


CONF = '''# Generated by tools/build_docs.py: edit that file, not this one.
project = {title!r}
author = {author!r}
copyright = {copyright!r}
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = {title!r}
html_static_path = ["_static"]
html_css_files = ["docs.css"]
html_favicon = "_static/favicon.png"
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {{
    "repository_url": {git_url!r},
    "repository_branch": {branch!r},
    "path_to_docs": "nbs",
    "use_repository_button": True,
    "use_issues_button": True,
    "use_download_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
}}
nb_execution_mode = "off"
nb_merge_streams = True
nb_render_markdown_format = "myst"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "html_image"]
myst_all_links_external = True
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "myst.xref_missing", "misc.highlighting_failure"]
# Everything local: MathJax 3, require.js and the widget manager come from tools/docs_js (npm).
mathjax_path = "vendor/mathjax/tex-chtml.js"
mathjax_config_path = "mathjax_config.js"
myst_update_mathjax = False
nb_ipywidgets_js = {{
    "vendor/require.js": {{}},
    "vendor/html-manager/embed-amd.js": {{"data-jupyter-widgets-cdn": "_static/vendor/npm/"}},
}}
html_context = {{"default_mode": "light"}}
PLOTLY_PAGES, WIDGET_PAGES = {plotly_pages!r}, {widget_pages!r}
# The widget modules find their fonts next to their AMD module ids (@jupyter-widgets/controls...): map those ids.
REQUIRE_CONFIG = ('var require = {{paths: {{"@jupyter-widgets": "_static/vendor/html-manager", '
                  '"@jupyter-widgets/html-manager/dist": "_static/vendor/html-manager"}}}};')


def _page_js(app, pagename, templatename, context, doctree):
    "plotly.js before require.js (else plotly registers as an AMD module); require.js's config on widget pages."
    if pagename in PLOTLY_PAGES: app.add_js_file("vendor/plotly.min.js", priority=100)
    if pagename in WIDGET_PAGES: app.add_js_file(None, body=REQUIRE_CONFIG, priority=101)


def setup(app): app.connect("html-page-context", _page_js)
'''

MATHJAX_CONFIG = r'''// Generated by tools/build_docs.py: MathJax 3, typesetting what Sphinx/myst-nb mark as math.
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]]},
  options: {processHtmlClass: "tex2jax_process|mathjax_process|math|output_area",
            ignoreHtmlClass: "tex2jax_ignore|mathjax_ignore|document"},
  // @jupyter-widgets/html-manager 1.x still calls MathJax 2's MathJax.Hub.Queue(["Typeset", MathJax.Hub, el]):
  // queue those elements until MathJax 3 is ready, then typeset them with its own API.
  Hub: {Queue: job => (window._mjxPending = window._mjxPending || []).push(job[2])},
  startup: {ready() {
    MathJax.startup.defaultReady();
    MathJax.Hub = {Queue: job => MathJax.typesetPromise([job[2]])};
    MathJax.startup.promise.then(() => (window._mjxPending || []).length && MathJax.typesetPromise(window._mjxPending));
  }}
};
'''

CSS = '''/* Generated by tools/build_docs.py */
.nbdev-source { float: right; font-size: smaller; }
.bd-article > section > blockquote:first-of-type { border-left: none; font-size: 1.15em; color: var(--pst-color-text-muted); padding-left: 0; }
'''


def favicon(path: Path, n: int = 32):
    "A small PNG icon (a white 'V' on dark blue), so browsers do not ask the server for /favicon.ico."
    import struct, zlib
    rows = []
    for y in range(n):
        row = bytearray([0])
        for x in range(n):
            on = 6 <= y <= 26 and abs(abs(x - 15.5) - (26 - y) * 0.45) < 2.2
            row += bytes((255, 255, 255) if on else (33, 60, 110))
        rows.append(bytes(row))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', n, n, 8, 2, 0, 0, 0)) +
                     chunk(b'IDAT', zlib.compress(b''.join(rows))) + chunk(b'IEND', b''))


def ensure_js() -> Path:
    "tools/docs_js/node_modules, installed with `npm ci` from the lock file when missing."
    nm = JS / 'node_modules'
    if not all((nm / s).exists() for s, _ in JS_FILES):
        npm = shutil.which('npm')
        if not npm: sys.exit(f"build_docs: {nm} is missing and npm is not installed (apt-get install npm)")
        log('installing the site JavaScript: npm ci in', JS)
        subprocess.run([npm, 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], cwd=JS,
                       check=True)
    return nm


def copy_static(static: Path):
    import plotly
    nm, v = ensure_js(), static / 'vendor'
    v.mkdir(parents=True, exist_ok=True)
    pl = Path(plotly.__file__).parent
    shutil.copy2(pl / 'package_data' / 'plotly.min.js', v / 'plotly.min.js')
    for s, d in JS_FILES:
        s = nm / s
        if s.is_file(): shutil.copy2(s, v / d); continue
        if d == 'mathjax':
            (v / d).mkdir(parents=True, exist_ok=True)
            for k in MATHJAX_KEEP:
                if (s / k).is_dir(): shutil.copytree(s / k, v / d / k)
                else: shutil.copy2(s / k, v / d / k)
        else: shutil.copytree(s, v / d, ignore=shutil.ignore_patterns('*.map', 'libembed-amd.js', 'embed.js*'))
    lic = {'plotly.min.js': 'plotly.js (MIT), from the plotly Python package ' + plotly.__version__}
    for p in ('requirejs', '@jupyter-widgets/html-manager', 'mathjax'):
        j = json.loads((nm / p / 'package.json').read_text())
        lic[p] = f"{j['name']} {j['version']} ({j.get('license')}), {j.get('homepage', '')}"
    (v / 'LICENSES.txt').write_text('Third-party JavaScript served by this site:\n' +
                                    '\n'.join(f'- {x}' for x in lic.values()) + '\n')
    (static / 'docs.css').write_text(CSS)
    favicon(static / 'favicon.png')


def build(nbs: Path, out: Path, proc: Path, n_workers: int, keep_going: bool) -> int:
    from nbdev.config import get_config
    cfg = get_config()
    t0 = time.time()
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    os.environ.setdefault('MPLBACKEND', 'Agg')
    procd, errs = nbdev_process(nbs, proc, n_workers)
    for e in errs: log('ERROR processing', e)
    if errs and not keep_going:
        log(f"{len(errs)} notebook(s) failed nbdev's processing (nbdev_docs would fail too; --keep-going leaves them "
            "out). To build docs nbdev runs exported cells, show_doc cells and every cell that imports something: "
            "keep imports in cells of their own.")
        return 1
    log(f"nbdev processing: {len(procd)} notebooks in {time.time() - t0:.0f}s")
    src = proc / '_sphinx'
    src.mkdir(parents=True)
    doc_url = f"{cfg.get('doc_host', '')}{cfg.get('doc_baseurl', '')}"
    pages, plotly_pages, widget_pages = to_myst(procd, src, doc_url)
    if 'index' not in pages.values(): sys.exit('build_docs: no index notebook (nbs/index.ipynb) to be the home page')
    import nbformat
    idx = nbformat.read(src / 'index.ipynb', as_version=4)
    idx.cells.append(nbformat.v4.new_markdown_cell(sidebar_toctree(nbs, pages)))
    nbformat.write(idx, src / 'index.ipynb')
    (src / 'conf.py').write_text(CONF.format(
        title=cfg.get('title', cfg.lib_name), author=cfg.get('author', ''), copyright=cfg.get('copyright', ''),
        git_url=cfg.get('git_url', ''), branch=cfg.get('branch', 'main'), plotly_pages=sorted(plotly_pages),
        widget_pages=sorted(widget_pages)))
    copy_static(src / '_static')
    (src / 'mathjax_config.js').write_text(MATHJAX_CONFIG)
    t1 = time.time()
    from sphinx.cmd.build import build_main
    html = proc / '_build' / 'html'  # myst-nb writes beside Sphinx's output folder: keep all that inside _proc
    rc = build_main(['-b', 'html', '-q', '-j', str(n_workers), '-d', str(proc / '_build' / 'doctrees'), str(src), str(html)])
    if rc: return rc
    shutil.rmtree(html / '_sources', ignore_errors=True)  # copies of the notebooks: not needed by the site
    (html / '.buildinfo').unlink(missing_ok=True)
    (html / '.nojekyll').touch()
    if out.exists(): shutil.rmtree(out)
    shutil.move(str(html), str(out))
    log(f"sphinx: {len(pages)} pages in {time.time() - t1:.0f}s -> {out}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--nbs', default=None, help="notebooks folder (settings.ini's nbs_path)")
    ap.add_argument('--out', default=None, help="site folder (settings.ini's doc_path, _docs)")
    ap.add_argument('--proc', default=None, help="processed notebooks (_proc)")
    ap.add_argument('--n_workers', type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument('--keep-going', action='store_true', help="leave out notebooks nbdev cannot process")
    a = ap.parse_args(argv)
    os.chdir(REPO)
    from nbdev.config import get_config
    cfg = get_config()
    return build(Path(a.nbs or cfg.nbs_path).resolve(), Path(a.out or cfg.doc_path).resolve(),
                 Path(a.proc or cfg.config_path / '_proc').resolve(), a.n_workers, a.keep_going)


if __name__ == '__main__': sys.exit(main())
