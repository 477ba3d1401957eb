"""The quickstart in a real browser: JupyterLab on loopback, Debian's chromium driven by Playwright.
A person's steps: Run All, type the password and the MFA code into the forms rendered from the
interaction's fields, press Submit, and see the connection and the run finish. Screenshots are
saved under test-artifacts/browser/."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and os.path.exists(p)), None
)
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "hunter2-browser-" + secrets.token_hex(4)

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    if CHROMIUM is None:
        pytest.skip("no chromium here: install Debian's `chromium` package (.ci/run does) for the browser test")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (it comes with the [test] extra)")
    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", work / "quickstart.ipynb")
    dirs = {name: tmp_path / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for d in dirs.values():
        d.mkdir()
    plugin = dirs["settings"] / "@jupyterlab" / "apputils-extension"
    plugin.mkdir(parents=True)
    (plugin / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "DECK_SIM_TIME_SCALE": "0.1",
    }
    for name in ("DECK_NB_RESPONDER", "DECK_API_KEY", "DECK_BASE_URL"):  # a person answers, on the embedded sim
        env.pop(name, None)
    port, token = _free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/status", params={"token": token}, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        server.terminate()
        pytest.fail("JupyterLab did not start")
    yield base, token, work
    server.terminate()
    server.wait(15)


def test_quickstart_forms_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token, work = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{base}/lab/tree/quickstart.ipynb?token={token}&reset")
        page.wait_for_function(
            "() => { const t = document.querySelector('#jp-main-statusbar')?.innerText || '';"
            " return t.includes('Idle') && !t.includes('No Kernel'); }"
        )
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

        # 1. the password, asked in a masked field (never typed into a cell)
        password = page.locator(".deck-nb-form input[type=password]").first
        expect(password).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "1-password-form.png"))
        password.fill(PASSWORD)
        page.locator("button.deck-nb-submit:not([disabled])").first.click()

        # 2. the MFA form, built from the interaction's single field
        code = page.locator(".deck-nb-form .deck-nb-field-0 input[type=text]").first
        expect(code).to_be_visible()
        expect(page.locator(".deck-nb-message").first).to_contain_text("Enter the 6-digit code sent to your phone")
        expect(page.locator(".deck-nb-form label", has_text="Verification code").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "2-mfa-form.png"))
        code.fill("123456")
        page.locator("button.deck-nb-submit:not([disabled])").first.click()

        # 3. connected, then the run completes and the bills appear
        expect(page.locator(".deck-nb-card", has_text="connected").first).to_be_visible()
        expect(page.locator(".deck-nb-card", has_text="completed").first).to_be_visible()
        expect(page.get_by_text("6 bills, 675.91 USD in total")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "3-connected-and-completed.png"), full_page=True)

        page.locator(".jp-Notebook").first.click()
        page.keyboard.press("Control+s")
        time.sleep(1.5)
        browser.close()

    saved = json.loads((work / "quickstart.ipynb").read_text())
    outputs = json.dumps([c.get("outputs", []) for c in saved["cells"]]) + json.dumps(saved["metadata"])
    assert "6 bills, 675.91 USD in total" in outputs  # it was saved after the run
    assert PASSWORD not in json.dumps(saved) and "123456" not in outputs
