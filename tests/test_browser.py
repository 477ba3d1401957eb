"""The notebooks in a real browser, as a person uses them: JupyterLab 4 or Notebook 7 on loopback,
Debian's chromium driven by Playwright. Run All, then type into the forms key by key (with a delay,
correcting with Backspace), press Submit, retry after a wrong code, and see the job finish. What
arrived is read on Deck's side (the simulator runs in this process): every key typed must be there.
Screenshots are saved under test-artifacts/browser/; the JupyterLab run also writes the README's two
pictures, docs/img/form.png (the password form under the connect cell) and docs/img/card.png (the
first run's finished card), so they always show what the code does today."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import nbformat
import psutil
import pytest

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DOC_IMAGES = ROOT / "docs" / "img"
DOC_IMAGE_MAX_BYTES = 150_000
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
KEY_DELAY_MS = 40
APPS = {
    "lab": ("jupyterlab", "--LabApp.expose_app_in_browser=True", "/lab/tree/{name}?reset&token={token}"),
    "notebook": ("notebook", "--JupyterNotebookApp.expose_app_in_browser=True", "/notebooks/{name}?token={token}"),
}
ACTIVE_FORM = ".deck-nb-form-page:has(button.deck-nb-submit:enabled)"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Arrived:
    """What reached Deck: the simulator in this process records each answer it is handed, on a
    connection (the seed's API) or on a task run (Deck's current API)."""

    def __init__(self, sim) -> None:
        self.world = sim.simulator.world
        self.submissions: list[dict] = []
        self.answered: list[str] = []  # the id of what each answer was for (conn_… or trun_…)
        for name in ("submit_connection", "submit_run"):
            self._record(name)

    def _record(self, name: str) -> None:
        original = getattr(self.world, name)

        def recording(id_, inputs):
            self.submissions.append(dict(inputs) if isinstance(inputs, dict) else inputs)
            self.answered.append(id_)
            return original(id_, inputs)

        setattr(self.world, name, recording)

    def passwords(self) -> list[str]:
        logins = [*self.world.connections.values(), *self.world.credentials.values()]
        return [login.password for login in logins]


@pytest.fixture
def deck_sim():
    if CHROMIUM is None:
        pytest.skip("no chromium here: install Debian's `chromium` package (.ci/run does) for the browser tests")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (it comes with the [test] extra)")
    from deck_nb.simulator import start

    with start(time_scale=0.3, rate_limit=None) as sim:
        yield sim


@pytest.fixture
def jupyter(tmp_path, deck_sim):
    """Start a Jupyter server (``lab`` or ``notebook``) on a copy of notebooks; stop its whole
    process group afterwards and check nothing it started is left running."""
    started: list[tuple[subprocess.Popen, list[int]]] = []

    def serve(app: str, notebooks: dict[str, nbformat.NotebookNode], api: str):
        module, expose, url = APPS[app]
        work = tmp_path / "nb"
        work.mkdir(exist_ok=True)
        for name, nb in notebooks.items():
            nbformat.write(nb, work / name)
        dirs = {n: tmp_path / n for n in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
        for d in dirs.values():
            d.mkdir(exist_ok=True)
        plugin = dirs["settings"] / "@jupyterlab" / "apputils-extension"
        plugin.mkdir(parents=True, exist_ok=True)
        (plugin / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            "DECK_API_KEY": deck_sim.api_key,  # the kernel talks to the simulator this test reads
            "DECK_BASE_URL": deck_sim.base_url,
            "DECK_API": api,  # which of Deck's two APIs the kernel's client speaks (the simulator serves both)
        }
        env.pop("DECK_NB_RESPONDER", None)  # a person answers
        port, token = _free_port(), secrets.token_hex(16)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                module,
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                "--allow-root",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={work}",
                expose,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        family: list[int] = [server.pid]
        started.append((server, family))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/status", params={"token": token}, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, f"{module} exited with {server.returncode}"
            time.sleep(0.3)
        else:
            pytest.fail(f"{module} did not start")

        def note_family() -> None:  # the kernels it started, to check they end with it
            family.extend(c.pid for c in psutil.Process(server.pid).children(recursive=True))

        return base + url.format(token=token, name="{name}"), work, note_family

    before = {c.pid for c in psutil.Process().children(recursive=True)}
    yield serve
    for server, family in started:
        try:
            family.extend(c.pid for c in psutil.Process(server.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass
        _stop_group(server, family)
        assert _alive(family) == [], "processes left behind"
    # nor any browser, server or kernel this test started some other way
    mine = [c.pid for c in psutil.Process().children(recursive=True) if c.pid not in before]
    strays = [p for p in _alive(mine) if any(n in p for n in ("chrom", "jupyter", "ipykernel", "playwright"))]
    assert strays == [], "processes left behind"


def _stop_group(proc: subprocess.Popen, family: list[int]) -> None:
    """SIGTERM the server's process group (it shuts its kernels down), SIGKILL if it hangs."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    deadline = time.monotonic() + 15  # the kernels it shuts down end on their own, shortly after
    while time.monotonic() < deadline and _alive(family):
        time.sleep(0.2)


def _alive(pids: list[int]) -> list[str]:
    alive = []
    for pid in set(pids):
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(p.cmdline())[:100]}")
        except psutil.NoSuchProcess:
            continue
    return alive


def _browser(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)


def _doc_picture(cell, name: str) -> None:
    """A picture for the docs: the cell (code and output) alone, small enough for a README."""
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    path = DOC_IMAGES / name
    cell.scroll_into_view_if_needed()
    cell.screenshot(path=str(path), animations="disabled", caret="hide")
    size = path.stat().st_size
    assert size <= DOC_IMAGE_MAX_BYTES, f"{name} is {size} bytes: crop it closer"


def _open_and_run_all(page, url: str) -> None:
    page.set_default_timeout(90_000)
    page.goto(url)
    page.wait_for_function(  # a real kernel, connected and idle (the toolbar says idle before one exists)
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }"
    )
    for _ in range(2):
        # not awaited: the command's promise resolves only once every cell has run (after the forms)
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            page.wait_for_function(
                "() => /\\[(\\*|\\d+)\\]/"
                ".test(document.querySelector('.jp-CodeCell .jp-InputPrompt')?.innerText || '')",
                timeout=15_000,
            )
            return
        except Exception:
            continue
    pytest.fail("Run All did not start the cells")


def _type(locator, text: str) -> None:
    locator.press_sequentially(text, delay=KEY_DELAY_MS)


def _correct(locator, typo: str, deletes: int, rest: str) -> None:
    """Type with a slip, delete it with Backspace, type the rest: as a person does."""
    locator.click()
    _type(locator, typo)
    for _ in range(deletes):
        locator.press("Backspace", delay=KEY_DELAY_MS)
    _type(locator, rest)


def _active_form(page, has_text: str | None = None):
    form = page.locator(ACTIVE_FORM, has_text=has_text) if has_text else page.locator(ACTIVE_FORM)
    form = form.last
    form.wait_for(state="visible")
    return form


def _save_and_wait(page, path: Path, expected: str) -> dict:
    """Ctrl+S, then wait until the file on disk holds the run's output (no fixed sleep)."""
    before = path.stat().st_mtime_ns
    page.locator(".jp-Notebook").first.click()
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.stat().st_mtime_ns != before:
            try:
                saved = json.loads(path.read_text())
            except json.JSONDecodeError:  # caught mid-write
                saved = None
            if saved and expected in json.dumps([c.get("outputs", []) for c in saved["cells"]]):
                return saved
        time.sleep(0.2)
    pytest.fail(f"{path.name} was not saved with {expected!r}")


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_quickstart_mfa_under_the_first_run_typed_key_by_key_with_a_wrong_code(jupyter, deck_sim, app):
    """Deck's current API: the password asked under the connect cell, the login's MFA under the
    first run's cell (a wrong code, then the right one), the next two runs reuse its session."""
    from playwright.sync_api import expect, sync_playwright

    arrived = Arrived(deck_sim)
    url, work, note_family = jupyter(
        app, {"quickstart.ipynb": nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", 4)}, "credentials"
    )
    shots = ARTIFACTS / f"quickstart-{app}"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            _open_and_run_all(page, url.format(name="quickstart.ipynb"))
            connect_cell = page.locator(".jp-CodeCell", has_text="dn.connect(source_id")
            run_cell = page.locator(".jp-CodeCell", has_text="dn.run_task(task_id")

            # 1. the password, in a masked field under the connect cell, typed with a slip corrected
            form = _active_form(connect_cell, "Password")
            password = form.locator("input[type=password]")
            page.screenshot(path=str(shots / "1-password-form.png"))
            _correct(password, PASSWORD[:-3] + "xyz", 3, PASSWORD[-3:])
            if app == "lab":  # the README's picture of a form under a cell (the password is masked)
                _doc_picture(connect_cell, "form.png")
            form.locator("button.deck-nb-submit").click()

            # 2. the login's MFA form, under the first RUN's cell: a wrong code first
            form = _active_form(run_cell, "Enter the 6-digit code")
            expect(form.locator("label", has_text="Verification code")).to_be_visible()
            code = form.locator(".deck-nb-field-0 input[type=text]")
            page.screenshot(path=str(shots / "2-mfa-form-under-the-run.png"))
            code.click()
            _type(code, "000000")
            form.locator("button.deck-nb-submit").click()

            # 3. the retry (a new form, the source's message says what is left), typed and corrected
            form = _active_form(run_cell, "not accepted")
            expect(form).to_contain_text("2 attempts left")
            code = form.locator(".deck-nb-field-0 input[type=text]")
            _correct(code, "12399", 2, "456")
            page.screenshot(path=str(shots / "3-retry-form.png"))
            form.locator("button.deck-nb-submit").click()

            # 4. logged in (rejected, then accepted) once for three runs; the bills appear
            after = 90_000  # the login's verdict, then three runs, on a loaded machine
            expect(page.get_by_text("asked: [('mfa', 'rejected'), ('mfa', 'accepted')]")).to_be_visible(timeout=after)
            expect(page.get_by_text("runs: ['completed', 'completed', 'completed']")).to_be_visible()
            expect(page.get_by_text("6 bills, 675.91 USD in total")).to_be_visible(timeout=after)
            page.screenshot(path=str(shots / "4-three-runs-one-mfa.png"), full_page=True)
            if app == "lab":  # the README's picture of a finished card: the first run, its MFA answered
                expect(run_cell).to_contain_text("completed")
                _doc_picture(run_cell, "card.png")
            assert page.locator(ACTIVE_FORM).count() == 0  # every form was closed once answered
            note_family()
            saved = _save_and_wait(page, work / "quickstart.ipynb", "6 bills, 675.91 USD in total")
        finally:
            browser.close()

    # every key arrived, corrections included: on Deck's side, exactly what was typed
    assert arrived.passwords() == [PASSWORD]
    assert arrived.submissions == [{"code": "000000"}, {"code": "123456"}]
    runs = sorted(deck_sim.simulator.world.runs.values(), key=lambda r: r.seq)
    assert [r.task_id for r in runs] == ["task_sim_bills", "task_sim_statements", "task_sim_usage"]
    assert set(arrived.answered) == {runs[0].id}  # both answers went to the first run's login
    assert len({r.session_id for r in runs}) == 1 and runs[0].session_id  # one session, one MFA
    assert all(r.status == "completed" for r in runs) and deck_sim.simulator.world.connections == {}
    text = json.dumps(saved)
    assert PASSWORD not in text and "000000" not in text
    assert "123456" not in json.dumps([c.get("outputs", []) for c in saved["cells"]] + [saved["metadata"]])


def _gallery_subset() -> nbformat.NotebookNode:
    """The gallery's set-up, its MFA form and its six-field form (two forms on one page)."""
    gallery = nbformat.read(ROOT / "notebooks" / "interactions_gallery.ipynb", 4)
    wanted = ("# Parameters", "import time", 'power = await dn.connect("src_sim_power"', "print(power.ok")
    wanted += ('dn.connect("src_sim_novel"', "print(novel.ok")
    cells = [c for c in gallery.cells if c.cell_type == "code" and any(w in c.source for w in wanted)]
    cells = [c for c in cells if "respond=" not in c.source]
    assert len(cells) == 6, [c.source[:60] for c in cells]
    return nbformat.v4.new_notebook(cells=cells, metadata=gallery.metadata)


def test_the_gallerys_six_field_form_typed_key_by_key(jupyter, deck_sim):
    from playwright.sync_api import expect, sync_playwright

    arrived = Arrived(deck_sim)
    url, _work, note_family = jupyter("lab", {"gallery.ipynb": _gallery_subset()}, "connections")
    shots = ARTIFACTS / "gallery-lab"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            _open_and_run_all(page, url.format(name="gallery.ipynb"))

            form = _active_form(page, "Enter the 6-digit code")
            code = form.locator(".deck-nb-field-0 input")
            code.click()
            _type(code, "123456")
            form.locator("button.deck-nb-submit").click()

            form = _active_form(page, "Confirm this device")
            page.screenshot(path=str(shots / "1-six-field-form.png"))
            _check_layout(form)
            _correct(form.locator(".deck-nb-field-0 input[type=text]"), "laptpo", 2, "op")
            pin = form.locator(".deck-nb-field-1 input[type=password]")
            pin.click()
            _type(pin, "123456")
            form.locator(".deck-nb-field-2 input[type=checkbox]").check()
            form.locator(".deck-nb-field-3 select").select_option(label="Email")
            passphrase = form.locator(".deck-nb-field-4 input[type=password]")
            _correct(passphrase, "correct hoser", 3, "rse")
            birth = form.locator(".deck-nb-field-5 input[type=text]")
            birth.click()
            _type(birth, "1990-01-01")
            page.screenshot(path=str(shots / "2-six-field-form-filled.png"))
            form.locator("button.deck-nb-submit").click()

            expect(page.get_by_text("True completed device_confirmation")).to_be_visible(timeout=90_000)
            page.screenshot(path=str(shots / "3-connected.png"), full_page=True)
            assert page.locator(ACTIVE_FORM).count() == 0  # both forms answered (a finished job drops its form)
            note_family()
        finally:
            browser.close()

    assert arrived.submissions == [
        {"code": "123456"},
        {
            "device_name": "laptop",
            "pin": 123456,
            "remember_device": True,
            "delivery": "email",
            "passphrase": "correct horse",
            "birth_date": "1990-01-01",
        },
    ]


def _check_layout(form) -> None:
    """Labels in one column; the dropdown wide enough for its longest option."""
    edges = form.locator(".deck-nb-label").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().left))"
    )
    assert len(edges) == 6 and len(set(edges)) == 1, edges
    fits = form.locator("select").evaluate(
        "s => { const probe = document.createElement('span'); probe.style.font = getComputedStyle(s).font;"
        " probe.style.whiteSpace = 'pre'; document.body.append(probe); let widest = 0;"
        " for (const o of s.options) {"
        "   probe.textContent = o.textContent; widest = Math.max(widest, probe.offsetWidth); }"
        " probe.remove(); return s.clientWidth >= widest; }"
    )
    assert fits
