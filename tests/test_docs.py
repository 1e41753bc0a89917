"""The documentation site, built offline and checked page by page in a real browser.

Builds the site once per session with `tools/build_docs.py` into a temporary folder, serves it on a free localhost
port and opens every page in headless Chromium (Playwright driving Debian's /usr/bin/chromium, no browser download).
Each page must: log no console error; request nothing outside localhost; load every image; draw every plotly figure;
typeset its math; render its saved widgets (sliders); link only to pages (and anchors) that exist. Screenshots of
every page are kept in test-artifacts/docs/.

Needs `apt-get install chromium`, `pip install playwright` and the docs stack (sphinx, myst-nb, sphinx-book-theme).
Skipped where they are missing, except under CI (`CI` set), where that is a failure.
"""
import functools
import html.parser
import http.server
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from _browser import CHROMIUM, CHROMIUM_ARGS, need

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / 'test-artifacts' / 'docs'
SKIP_PAGES = {'genindex.html', 'search.html'}  # Sphinx's own pages (still visited for links; nothing to draw)



def _importable(m: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(m) is not None


@pytest.fixture(scope='session')
def site(tmp_path_factory):
    "The site, built from nbs/ by tools/build_docs.py into a temporary folder (or `DOCS_SITE`, one already built)."
    if os.environ.get('DOCS_SITE'): return Path(os.environ['DOCS_SITE']).resolve()
    for m in ('sphinx', 'myst_nb', 'sphinx_book_theme'): need(_importable(m), f"the Python package {m}")
    need((REPO / 'tools/docs_js/node_modules').exists() or shutil.which('npm'), "npm (for tools/docs_js)")
    tmp = tmp_path_factory.mktemp('docs')
    r = subprocess.run([sys.executable, 'tools/build_docs.py', '--out', str(tmp / '_docs'), '--proc', str(tmp / '_proc')],
                       cwd=REPO, capture_output=True, text=True, env={**os.environ, 'TF_CPP_MIN_LOG_LEVEL': '3'})
    assert r.returncode == 0, f"tools/build_docs.py failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return tmp / '_docs'


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


@pytest.fixture(scope='session')
def server(site):
    "The site served on a free localhost port: its base URL."
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


_CHECKS = r'''() => {
  const q = s => Array.from(document.querySelectorAll(s));
  return {
    images: q('img').map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    plotly_divs: q('.plotly-graph-div').length,
    plotly_drawn: q('.js-plotly-plot .main-svg').length ? q('.js-plotly-plot').filter(d => d.querySelector('.main-svg')).length : 0,
    math: q('.math').length,
    mathjax: q('mjx-container').length,
    math_errors: q('mjx-merror').length,
    widget_views: q('script[type="application/vnd.jupyter.widget-view+json"]').length,
    widget_state: q('script[type="application/vnd.jupyter.widget-state+json"]').length,
    widgets: q('.jupyter-widgets').length,
    sliders: q('.widget-slider, input[type=range]').length,
    links: q('a[href]').map(a => a.href),
    raw_tex: rawTex(),
  };
  // Text a reader sees as TeX source: a TeX command or a $...$ pair in a text node outside math, code and scripts.
  function rawTex() {
    const skip = 'script, style, code, pre, kbd, samp, textarea, .math, mjx-container, .highlight, .MathJax';
    const tex = new RegExp(String.raw`\\(${TEX_COMMANDS})(?![a-zA-Z])|\$[^$\s][^$]*\$`);
    const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement && n.parentElement.closest(skip)) continue;
      const m = n.textContent.match(tex);
      if (m) out.push(n.textContent.slice(Math.max(0, m.index - 30), m.index + 50).replace(/\s+/g, ' ').trim());
    }
    return out;
  }
}'''
# TeX commands that never belong in prose; a text node holding one is maths the site failed to typeset.
TEX_COMMANDS = '|'.join('''mathcal mathrm mathbb mathbf frac mid sum prod log exp sqrt int infty partial nabla
    alpha beta gamma delta epsilon varepsilon theta phi sigma mu pi tau lambda qquad quad le ge leq geq approx
    sim cdot times text big Big left right operatorname top propto'''.split())
_CHECKS = _CHECKS.replace('${TEX_COMMANDS}', TEX_COMMANDS)


@pytest.fixture(scope='session')
def pages(site, server):
    "Every page opened in Chromium: {page file: what the browser saw}."
    need(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM}")
    need(_importable('playwright'), "the Python package playwright")
    from playwright.sync_api import sync_playwright
    if ARTIFACTS.exists(): shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    host = urllib.parse.urlsplit(server).netloc
    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for f in sorted(site.glob('*.html')):
            ctx = browser.new_context(viewport={'width': 1280, 'height': 900})
            page = ctx.new_page()
            r = {'console': [], 'outside': [], 'failed': []}
            page.on('console', lambda m, r=r: m.type == 'error' and r['console'].append(m.text))
            page.on('pageerror', lambda e, r=r: r['console'].append(f"uncaught: {e}"))
            page.on('requestfailed', lambda q, r=r: r['failed'].append(f"{q.url} ({q.failure})"))
            page.on('response', lambda s, r=r: s.status >= 400 and r['failed'].append(f"{s.url} ({s.status})"))

            def route(rt, r=r):
                u = urllib.parse.urlsplit(rt.request.url)
                if u.scheme in ('data', 'blob') or u.netloc == host: return rt.continue_()
                r['outside'].append(rt.request.url); return rt.abort()
            page.route('**/*', route)
            page.goto(server + f.name, wait_until='networkidle')
            if f.name not in SKIP_PAGES:  # give deferred scripts (MathJax, widgets, plotly) time to finish
                try: page.wait_for_function('''() => {
                    const q = s => document.querySelectorAll(s).length;
                    return (!q('.math') || q('mjx-container')) && q('.js-plotly-plot .main-svg') >= q('.plotly-graph-div')
                      && (!q('script[type="application/vnd.jupyter.widget-view+json"]') || q('.jupyter-widgets'));
                }''', timeout=15000)
                except Exception: pass  # the assertions below say what is missing
                page.wait_for_timeout(300)
            r.update(page.evaluate(_CHECKS))
            page.screenshot(path=str(ARTIFACTS / f"{f.stem}.png"), full_page=True)
            seen[f.name] = r
            ctx.close()
        browser.close()
    return seen


def _content(pages): return {k: v for k, v in pages.items() if k not in SKIP_PAGES}


def test_every_notebook_is_a_page(pages, site):
    "One page per notebook in nbs/, named as Quarto names it (`03_data.ipynb` -> `data.html`), plus the home page."
    import re
    want = {re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.stem) + '.html' for p in (REPO / 'nbs').glob('*.ipynb')}
    assert want <= set(pages), f"missing pages: {sorted(want - set(pages))}"
    assert (site / 'index.html').exists()


def test_no_console_errors(pages):
    bad = {k: v['console'] for k, v in pages.items() if v['console']}
    assert not bad, f"console errors: {bad}"


def test_nothing_leaves_localhost(pages):
    bad = {k: v['outside'] for k, v in pages.items() if v['outside']}
    assert not bad, f"requests outside localhost: {bad}"


def test_every_request_succeeds(pages):
    bad = {k: v['failed'] for k, v in pages.items() if v['failed']}
    assert not bad, f"failed requests: {bad}"


def test_every_image_loads(pages):
    bad = {k: [i['src'] for i in v['images'] if not i['ok']] for k, v in pages.items()}
    assert not {k: v for k, v in bad.items() if v}, f"images that did not load: {bad}"


def test_plotly_figures_draw(pages):
    bad = {k: f"{v['plotly_drawn']} of {v['plotly_divs']} drawn" for k, v in _content(pages).items()
           if v['plotly_drawn'] < v['plotly_divs']}
    assert not bad, f"plotly figures not drawn: {bad}"


def test_math_is_typeset(pages):
    bad = {k: f"{v['math']} math elements, {v['mathjax']} typeset, {v['math_errors']} errors"
           for k, v in _content(pages).items() if v['math'] and (v['mathjax'] < v['math'] or v['math_errors'])}
    assert not bad, f"math not typeset: {bad}"


def test_no_raw_tex(pages):
    "Every formula is typeset: no page shows TeX source (a TeX command, or a $...$ pair) as text outside its math."
    bad = {k: v['raw_tex'] for k, v in _content(pages).items() if v['raw_tex']}
    assert not bad, "raw TeX outside math (display maths in $$ blocks of their own, see DEVELOPERS.md):\n" + '\n'.join(
        f"{k}: {frag!r}" for k, v in sorted(bad.items()) for frag in v)


def test_saved_widgets_render(pages):
    bad = {k: f"{v['widget_views']} widget views, {v['widgets']} rendered, {v['sliders']} sliders"
           for k, v in _content(pages).items()
           if v['widget_views'] and (not v['widget_state'] or v['widgets'] < v['widget_views'] or not v['sliders'])}
    assert not bad, f"saved widgets not rendered: {bad}"


def test_site_has_the_interactive_content(pages):
    "The issue asks for typeset math, interactive plotly figures and saved widgets: the site shows each somewhere."
    c = _content(pages).values()
    assert any(v['mathjax'] for v in c), "no page typesets math"
    assert any(v['plotly_drawn'] for v in c), "no page draws a plotly figure"
    assert any(v['sliders'] for v in c), "no page renders a saved slider widget"


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.ids = set()
    def handle_starttag(self, tag, attrs):
        self.ids.update(v for k, v in attrs if k in ('id', 'name') and v)


@functools.lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset:
    p = _Ids(); p.feed(path.read_text(encoding='utf-8', errors='replace')); return frozenset(p.ids)


def test_internal_links_resolve(pages, server, site):
    "Every link to this site answers 200, and every #anchor it names exists on the target page."
    host, bad, checked = urllib.parse.urlsplit(server).netloc, [], {}
    for k, v in pages.items():
        for href in v['links']:
            u = urllib.parse.urlsplit(href)
            if u.scheme not in ('http', 'https') or u.netloc != host: continue
            url = urllib.parse.urlunsplit(u._replace(fragment=''))
            if url not in checked:
                try: checked[url] = urllib.request.urlopen(url, timeout=10).status
                except Exception as e: checked[url] = str(e)
            if checked[url] != 200: bad.append(f"{k}: {href} -> {checked[url]}"); continue
            target = site / urllib.parse.unquote(u.path.lstrip('/'))
            if target.is_dir(): target = target / 'index.html'
            frag = urllib.parse.unquote(u.fragment)
            if frag and target.suffix == '.html' and frag not in _ids(target): bad.append(f"{k}: {href} -> no #{frag}")
    assert checked, "no internal links found"
    assert not bad, "broken internal links:\n" + '\n'.join(sorted(set(bad)))


def _maths_problems(md: str) -> list[str]:
    "Where a markdown cell's maths could read differently in JupyterLab, MyST and pandoc (see DEVELOPERS.md)."
    import re
    out, lines = [], md.split('\n')
    in_code = False
    inside = False  # within a $$ block spanning lines
    for i, line in enumerate(lines):
        if line.lstrip().startswith('```'): in_code = not in_code
        if in_code: continue
        n = len(re.findall(r'(?<!\\)\$\$', line))
        if n and not inside:
            if not line.lstrip().startswith('$$'): out.append(f"text before $$ on the same line: {line.strip()[:60]!r}")
            if i and lines[i - 1].strip(): out.append(f"no blank line before $$: {line.strip()[:60]!r}")
        if inside and re.match(r'\s*([-+>]|\d+[.)])\s', line): out.append(f"a line inside $$ that reads as a list or quote: {line.strip()[:60]!r}")
        if n % 2: inside = not inside
        if n and not inside:
            if not line.rstrip().endswith('$$'): out.append(f"text after $$ on the same line: {line.strip()[-60:]!r}")
            if i + 1 < len(lines) and lines[i + 1].strip(): out.append(f"no blank line after $$: {line.strip()[-60:]!r}")
    return out


def test_display_maths_stands_apart_in_the_notebooks():
    "Every $$ block in nbs/ has blank lines around it and no line that a Markdown parser reads as a list item or quote."
    import json
    bad = [f"{nb.name} cell {i}: {p}" for nb in sorted((REPO / 'nbs').glob('*.ipynb'))
           for i, c in enumerate(json.loads(nb.read_text())['cells']) if c['cell_type'] == 'markdown'
           for p in _maths_problems(''.join(c['source']))]
    assert not bad, '\n'.join(bad)


def test_maths_problems_are_found():
    assert _maths_problems("a\n\n$$x = 1$$\n\nb") == []
    assert _maths_problems("a\n\n$$x = y\n+z$$\n\nb") == []  # '+z' without a space after it is not a list item
    assert len(_maths_problems("text\n$$x$$\nmore")) == 2
    assert _maths_problems("a\n\n$$x = y\n - z$$\n\nb") and _maths_problems("a: $$x$$\n\nb")
