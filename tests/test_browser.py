"""Real-browser test of the explorers: JupyterLab on localhost, driven by Playwright on Debian's Chromium.

Starts `jupyter lab` (a free port, a random token, `--no-browser`, a temporary root folder holding a copy of
nbs/10_explore.ipynb without its saved outputs), opens the notebook in Chromium, runs all cells from the Run menu,
drags the first slider of the first slider explorer and checks that the rendered digit changed, comparing
screenshots of the image element. Screenshots are kept in test-artifacts/browser/.

Needs `apt-get install chromium` and `pip install playwright` (no `playwright install`: we use /usr/bin/chromium).
Skipped where either is missing, except under CI (`CI` set), where that is a failure.
"""
import io
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from _browser import CHROMIUM, CHROMIUM_ARGS, free_port, need

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / 'test-artifacts' / 'browser'




def _clean_copy(src: Path, dst: Path):
    "Copy a notebook without outputs or saved widget state, so what the browser shows comes from this run."
    import nbformat
    nb = nbformat.read(src, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs, c.execution_count = [], None
    nb.metadata.pop('widgets', None)
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}
    nbformat.write(nb, dst)


@pytest.fixture
def lab(tmp_path, mnist_dir):
    "A JupyterLab server on a free localhost port serving a temporary folder: yields (url of the notebook, token)."
    need(Path(CHROMIUM).is_file(), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    try: import playwright.sync_api  # noqa: F401
    except ImportError: need(False, "the playwright Python package (pip install playwright)")
    root, home = tmp_path / 'root', tmp_path / 'home'
    root.mkdir(); home.mkdir()
    _clean_copy(REPO / 'nbs' / '10_explore.ipynb', root / '10_explore.ipynb')
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ('MPLBACKEND', 'JUPYTER_CONFIG_DIR', 'JUPYTER_RUNTIME_DIR')}
    env.update(VAE_MNIST_DATA=str(mnist_dir), TF_CPP_MIN_LOG_LEVEL='3', PYTHONPATH=str(REPO),
               JUPYTER_CONFIG_DIR=str(home / 'config'), JUPYTER_RUNTIME_DIR=str(home / 'runtime'),
               JUPYTERLAB_SETTINGS_DIR=str(home / 'settings'), JUPYTERLAB_WORKSPACES_DIR=str(home / 'workspaces'))
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
           '--LabApp.news_url=None', '--LabApp.expose_app_in_browser=True', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    if hasattr(os, 'geteuid') and os.geteuid() == 0: cmd.append('--allow-root')
    log = open(tmp_path / 'jupyter.log', 'wb')
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=2) as r:
                    if r.status == 200: break
            except OSError: pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start: {(tmp_path / 'jupyter.log').read_text()[-3000:]}")
            time.sleep(0.25)
        yield f'http://127.0.0.1:{port}/lab/tree/10_explore.ipynb?token={token}', token
    finally:
        server.terminate()
        try: server.wait(timeout=20)
        except subprocess.TimeoutExpired: server.kill(); server.wait()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / 'jupyter.log', ARTIFACTS / 'jupyter.log')


# `window.jupyterapp` exists with --LabApp.expose_app_in_browser; the notebook's kernel as the page sees it
KERNEL_READY = '''() => { const k = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
                           return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }'''


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert('L'), dtype=np.int16)


def test_slider_explorer_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    url, _ = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob('*.png'): old.unlink()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.set_default_timeout(60_000)
        # JupyterLab may ask which kernel to start: accept its preselected Python 3 whenever the dialog appears
        page.add_locator_handler(page.locator('.jp-Dialog'), lambda d: d.locator('.jp-mod-accept').first.click())
        try:
            page.goto(url)
            page.locator('.jp-Notebook .jp-Cell').first.wait_for()
            # the kernel must be connected and idle before Run All (the status bar says "Idle" even before it connects)
            page.wait_for_function(KERNEL_READY, timeout=90_000)
            page.locator('.lm-MenuBar-itemLabel', has_text='Run').first.click()
            page.locator('.lm-Menu-itemLabel', has_text='Run All Cells').first.click()
            image = page.locator('img.vae-slider-image').first
            image.wait_for(state='attached', timeout=90_000)
            image.scroll_into_view_if_needed()
            page.wait_for_function('el => el.complete && el.naturalWidth > 0', arg=image.element_handle())
            # wait for the whole notebook to finish: the later cells move this explorer's sliders too
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].every(p => /\\[\\d+\\]/.test(p.textContent))",
                timeout=90_000)
            image.scroll_into_view_if_needed()
            before_src, before = image.get_attribute('src'), image.screenshot(path=str(ARTIFACTS / 'digit-before.png'))
            slider = page.locator('.vae-slider-0').first
            handle, track = slider.locator('.noUi-handle').first, slider.locator('.noUi-base').first
            hb, tb = handle.bounding_box(), track.bounding_box()
            target_x = tb['x'] + 0.3 * tb['width'] if hb['x'] > tb['x'] + 0.5 * tb['width'] else tb['x'] + 0.8 * tb['width']
            page.mouse.move(hb['x'] + hb['width'] / 2, hb['y'] + hb['height'] / 2)
            page.mouse.down()
            page.mouse.move(target_x, hb['y'] + hb['height'] / 2, steps=8)
            page.mouse.up()
            page.wait_for_function('([el, src]) => el.getAttribute("src") !== src && el.complete && el.naturalWidth > 0',
                                   arg=[image.element_handle(), before_src], timeout=30_000)
            after = image.screenshot(path=str(ARTIFACTS / 'digit-after.png'))
            page.screenshot(path=str(ARTIFACTS / 'page.png'))
            a, b = _pixels(before), _pixels(after)
            assert a.shape == b.shape and a.shape[0] >= 28
            diff = np.abs(a - b)
            assert (diff > 32).mean() > 0.01, f"the rendered digit did not change ({(diff > 32).mean():.4f} of pixels moved)"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / 'failure.png'), full_page=True)
            raise
        finally:
            browser.close()
