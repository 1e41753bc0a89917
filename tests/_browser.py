"What the real-browser tests share: Debian's Chromium for Playwright (no browser download), and skip-or-fail."
import os
import socket

import pytest

CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
# offline machine: no background networking, no component updates, no sync; root needs --no-sandbox
CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--no-first-run']


def need(ok: bool, what: str):
    "Skip when `what` is missing here; under CI (`CI` set), which must provide it, fail."
    if ok: return
    if os.environ.get('CI'): pytest.fail(f"CI must provide {what}")
    pytest.skip(f"{what} is not available")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]
