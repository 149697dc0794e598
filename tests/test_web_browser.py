"""`balance serve` started for real (its own process, on 127.0.0.1) and used from real Chromium (Debian's
/usr/bin/chromium driven by Playwright; no browser download): upload through the file input, live progress,
the result page with its playing video, the person page with its trend chart; screenshots at phone and desktop
width. Also: the token URL off localhost, and many uploads at once, every one accepted and analysed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from balance.web.results import CHROMIUM_FLAGS
from tests.conftest import SAMPLES, analysed
from tests.servers import free_port

pytestmark = pytest.mark.slow

LEFT = SAMPLES / "synthetic" / "sway_left_clean.mp4"
SHORT = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = list(CHROMIUM_FLAGS)  # the app's own: no network, no first-run work
# Screenshots land here for a person to look at (phone 390 px and desktop 1280 px wide).
SHOTS = Path(os.environ.get("BALANCE_WEB_SCREENSHOTS", "")) if os.environ.get("BALANCE_WEB_SCREENSHOTS") else None
CONCURRENT_UPLOADS = 8


@contextlib.contextmanager
def serve(tmp: Path, *options: str, db: str | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`balance serve` in its own process on a free port; yields the local URL and the process. `db`: the
    history (a file or a server URL; default a new file in `tmp`)."""
    port = free_port()
    cmd = [sys.executable, "-m", "balance.cli.main", "serve", "--port", str(port), "--no-browser", *options]
    cmd += ["--data", str(tmp / "data"), "--db", db or str(tmp / "history.db")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("serve"), "--workers", "2") as (url, proc):
        yield url
    out, err = proc.communicate()
    assert f"balance serve: {url}/" in out  # the URL, as the user sees it
    assert "Traceback" not in err, err


def test_off_localhost_the_url_carries_the_token(tmp_path: Path) -> None:
    with serve(tmp_path, "--host", "0.0.0.0", "--token", "tok-123") as (url, proc):
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, params={"token": "nope"}).status_code == 403
        entry = httpx.get(url, params={"token": "tok-123"})
        assert entry.status_code == 303 and "balance_session=" in entry.headers["set-cookie"]
    out, _ = proc.communicate()
    assert re.search(r"balance serve: http://[^/]+:\d+/\?token=tok-123", out), out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium not installed (scripts/install_chromium.sh): the web app not tested in a browser")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (pip) drives Chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def wait_for(page: Any, script: str, timeout_s: float = 30) -> None:
    """Poll a JavaScript expression until true (Playwright's wait_for_function evaluates strings, which the
    app's Content-Security-Policy rightly forbids)."""
    end = time.monotonic() + timeout_s
    while not page.evaluate(script):
        assert time.monotonic() < end, f"not true within {timeout_s} s: {script}"
        time.sleep(0.1)


def shot(page: Any, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_upload_in_chromium_follows_progress_to_the_result_and_the_person(server: str, browser: Any) -> None:
    from playwright.sync_api import Error as sync_error

    expected = analysed(LEFT, 170)
    assert not isinstance(expected, Exception)
    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    desktop.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    desktop.on("pageerror", lambda e: errors.append(str(e)))
    desktop.goto(server + "/upload")
    desktop.fill("#name", "Robin")
    desktop.fill("input[name=height_cm]", "170")
    desktop.fill("#week", "1")
    desktop.set_input_files("#clips", str(LEFT))
    assert desktop.inner_text("#chosen") == LEFT.name
    shot(desktop, "upload-desktop")
    started = time.monotonic()
    desktop.click("button[type=submit]")
    desktop.wait_for_url(re.compile(r".*/jobs/[0-9a-f]{32}$"))
    seen: set[str] = set()
    while True:
        try:  # the job page reloads itself into the result: a query may meet the navigation
            if desktop.query_selector(".trial .leg"):
                break
            stage = desktop.query_selector("#stage")
            if stage is not None:
                seen.add(stage.inner_text())
                if not (SHOTS and (SHOTS / "job-desktop.png").exists()):
                    shot(desktop, "job-desktop")
        except sync_error:
            pass
        assert time.monotonic() - started < 600, "no result in 10 minutes"
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    assert seen, "the job page showed the analysis's progress"
    assert desktop.inner_text(".trial .leg") == "left leg"
    assert f"{expected.assessments[0].score.value:.0f}" in desktop.inner_text(".trial .score")
    # The annotated video plays in the page: its clock moves.
    desktop.eval_on_selector("#video", "v => { v.muted = true; return v.play(); }")
    wait_for(desktop, "document.querySelector('#video').currentTime > 0.5")
    shot(desktop, "result-desktop")
    result_url = desktop.url
    desktop.click('a:has-text("Robin\'s history")')
    wait_for(desktop, "!!document.querySelector('#trend') && document.querySelector('#trend').naturalWidth > 0")
    # The programme view's table: a column per leg ("Left"), the week's best hold in it.
    table = desktop.inner_text("table.history")
    assert "Robin" in desktop.inner_text("#person") and "left" in table.lower() and "best of 1" in table
    shot(desktop, "person-desktop")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    desktop.click("text=delete session")  # the confirmation page; keep the session
    assert "cannot be undone" in desktop.inner_text("main")
    shot(desktop, "confirm-desktop")
    desktop.click("text=Keep it")
    assert "Robin" in desktop.inner_text("#person")
    pages = [("home", "/"), ("upload", "/upload"), ("person", "/person?name=Robin"), ("jobs", "/jobs")]
    pages.append(("not-found", "/person?name=Nobody"))
    for name, path in pages:
        phone.goto(server + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways on a phone"
        shot(phone, f"{name}-phone")
    desktop.goto(server + "/")
    shot(desktop, "home-desktop")
    phone.goto(result_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "the result scrolls sideways on a phone"
    shot(phone, "result-phone")
    assert not errors, errors
    print(f"\nupload to result in Chromium: {elapsed:.1f} s for a {LEFT.name} ({expected.clip.duration_s:.0f} s clip)")


def test_a_shared_clip_shows_what_balance_analyze_finds(server: str, browser: Any, shared_media: Path) -> None:
    """A real phone-style clip from ../shared/media/positive: the page shows the CLI's trial, score and flags."""
    from balance.assess.catalogue import flag_words
    from balance.results.document import to_json

    clip = shared_media / "positive" / "sls_sheknows_woman_tree_front_10fps.mp4"
    result = analysed(clip)
    assert not isinstance(result, Exception), result
    expected = to_json(result)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/upload")
    page.fill("#name", "Kim")
    page.set_input_files("#clips", str(clip))
    page.click("button[type=submit]")
    page.wait_for_selector(".trial .leg", timeout=600_000)
    cards = page.query_selector_all(".trial")
    assert len(cards) == len(expected["trials"])
    for card, trial in zip(cards, expected["trials"], strict=True):
        text = card.inner_text()
        assert card.query_selector(".leg").inner_text() == f"{trial['stance_leg']} leg"
        assert f"{trial['hold_s']:.1f} s" in text
        assert f"{trial['score']['value']:.0f} / 100" in text and f"± {trial['score']['mdc']:.1f}" in text
        assert trial["tripod"]["answer_words"] in text  # weight outside, centred or inside, or cannot tell
        for flag in trial["flags"]:
            assert flag["text"] in text and flag_words(flag["code"]).advice in text
        if not trial["flags"]:
            assert "none: steady, level and balanced" in text
    page.close()


def test_drag_and_drop_and_a_refused_file_in_the_page(server: str, browser: Any) -> None:
    """A file dropped on the drop zone is the one sent; the server's refusal shows in the page as the CLI's line."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server + "/upload")
    page.evaluate(
        """([name, text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, {type: "video/mp4"}));
            const drop = document.getElementById("drop");
            drop.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        ["notes.mp4", "this is not a video\n" * 40],
    )
    assert page.inner_text("#chosen") == "notes.mp4"
    assert page.evaluate("document.getElementById('clips').files.length") == 1
    page.click("button[type=submit]")
    page.wait_for_selector("#upload-error:not([hidden])")
    assert page.inner_text("#upload-error").startswith("notes.mp4 is not a video file OpenCV can read.")
    shot(page, "upload-error-phone")
    page.close()


def test_many_uploads_at_once_are_all_accepted(server: str) -> None:
    with httpx.Client(base_url=server) as first:
        csrf = re.search(r'csrf-token" content="(\w+)"', first.get("/").text)
        assert csrf
        cookies = dict(first.cookies)
    body = SHORT.read_bytes()

    def upload(k: int) -> tuple[int, str]:
        with httpx.Client(base_url=server, cookies=cookies, timeout=120) as c:
            r = c.post(
                "/upload",
                files=[("clips", (f"clip{k}.mp4", body, "video/mp4"))],
                headers={"X-CSRF-Token": csrf.group(1), "Accept": "application/json"},
            )
            return r.status_code, r.text

    with concurrent.futures.ThreadPoolExecutor(CONCURRENT_UPLOADS) as pool:
        results = list(pool.map(upload, range(CONCURRENT_UPLOADS)))
    assert [status for status, _ in results] == [202] * CONCURRENT_UPLOADS, results
    ids = [httpx.Response(202, text=text).json()["jobs"][0]["id"] for _, text in results]
    with httpx.Client(base_url=server, cookies=cookies, headers={"Accept": "application/json"}) as c:
        deadline = time.monotonic() + 600
        states = []
        for job_id in ids:
            while (state := c.get(f"/jobs/{job_id}").json())["state"] in ("queued", "running"):
                assert time.monotonic() < deadline
                time.sleep(0.5)
            states.append(state["state"])
    assert states == ["done"] * CONCURRENT_UPLOADS
