"""Both notebooks opened in a real JupyterLab (headless Chromium): once the kernel has started and reported its
language, neither is marked modified and neither file changed (the committed metadata is the kernel's)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import require

from hybridx_nb.app.runner import notebook_path

CHROMIUM = "/usr/bin/chromium"
NOTEBOOKS = ("assessment.ipynb", "explore.ipynb")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    if not Path(CHROMIUM).is_file():
        require("HYBRIDX_REQUIRE_BROWSER", f"headless Chromium not found at {CHROMIUM}")
    root = tmp_path_factory.mktemp("lab")
    for name in NOTEBOOKS:
        shutil.copy(notebook_path().parent / name, root / name)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".cfg"), "JUPYTER_RUNTIME_DIR": str(root / ".rt"),
           "JUPYTER_DATA_DIR": str(root / ".data"), "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
                             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
                             f"--ServerApp.root_dir={root}", "--allow-root"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield root, f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_opening_the_notebooks_does_not_mark_them_modified(lab) -> None:
    root, url, token = lab
    before = {name: (root / name).read_bytes() for name in NOTEBOOKS}
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for name in NOTEBOOKS:
                page.goto(f"{url}/lab/tree/{name}?token={token}")
                page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
                # the kernel has started and answered kernel_info (that is when Lab records language_info)
                page.wait_for_function("""() => [...document.querySelectorAll('.jp-StatusBar-TextItem, span')]
                                           .some(e => /\\|\\s*Idle/.test(e.textContent))""", timeout=90_000)
                page.wait_for_timeout(2_000)
                dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty").count()
                assert dirty == 0, f"{name} is marked modified on opening"
        finally:
            browser.close()
    assert {name: (root / name).read_bytes() for name in NOTEBOOKS} == before
