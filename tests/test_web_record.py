"""The Record page: a live test in real Chromium with a fake camera playing real clips, through the real server.

Chromium's fake camera (`--use-file-for-fake-video-capture`) plays an MJPEG made from a sample clip; the page
sends frames over the WebSocket, the server's live trial machine answers, the browser records the clip with
MediaRecorder and uploads it in chunks, and the full analysis runs as a job. The clips are the synthetic sway
clips (a real photo turned about the stance ankle) with black before and after, so the person comes into view
already on one leg and leaves it: the same events for the live judgement and for `balance analyze`.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from balance.errors import BalanceError
from balance.history.store import Store
from balance.pipeline import analyze
from balance.web.results import CHROMIUM_FLAGS
from tests.conftest import SAMPLES, analysed
from tests.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = list(CHROMIUM_FLAGS)  # the app's own: no network, no first-run work
FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
PHASES = ["waiting_for_subject", "in_position", "countdown", "waiting_for_lift_off", "holding", "done"]
SYNTHETIC = SAMPLES / "synthetic"
SHOTS = Path(tempfile.gettempdir()) / "balance-record-shots"  # screenshots, kept to look at after a run
# The live timer and the offline analysis agree on lift-off and hold to this (issue: "within 0.3 s").
AGREE_S = 0.3

in_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed (scripts/install_chromium.sh)")


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


# The camera picture: 320x240 at 30 fps, the portrait clip centred, black before (nobody there) and after (the
# person has gone). Small, so a loaded 2-core machine still delivers every frame; benchmarks/web_record.py
# measures the frame rate and latency at 640x480.
SIZE = (320, 240)
FIT = f"scale=-2:{SIZE[1]},pad={SIZE[0]}:{SIZE[1]}:(ow-iw)/2:0,fps=30,format=yuv420p,setsar=1"


def _clip(out: Path, parts: list[tuple[str, float]]) -> tuple[Path, Path]:
    """An MP4 (for `balance analyze`) and the raw Y4M the fake camera plays (no decoding), from the same frames.
    parts: ("black", seconds), (sample clip name, seconds from its start), or ("top:" + clip name, seconds): its
    upper half only, a person in view with the feet out of the picture."""
    args, chains = [_ffmpeg(), "-v", "error", "-y"], []
    for i, (what, seconds) in enumerate(parts):
        if what == "black":
            args += ["-f", "lavfi", "-i", f"color=black:s={SIZE[0]}x{SIZE[1]}:r=30:d={seconds}"]
        elif what.endswith(".jpeg"):
            args += ["-loop", "1", "-framerate", "30", "-t", str(seconds), "-i", str(SAMPLES / what)]
        else:
            args += ["-t", str(seconds), "-i", str(SYNTHETIC / what.removeprefix("top:"))]
        crop = "crop=iw:ih*0.55:0:0," if what.startswith("top:") else ""
        chains.append(f"[{i}:v]{crop}{FIT}[v{i}]")
    joined = "".join(f"[v{i}]" for i in range(len(parts)))
    graph = ";".join(chains) + f";{joined}concat=n={len(parts)}:v=1[o]"
    mp4, y4m = out.with_suffix(".mp4"), out.with_suffix(".y4m")
    subprocess.run(
        [*args, "-filter_complex", graph, "-map", "[o]", "-c:v", "libx264", "-crf", "18", str(mp4)], check=True
    )
    subprocess.run([_ffmpeg(), "-v", "error", "-y", "-i", str(mp4), "-pix_fmt", "yuv420p", str(y4m)], check=True)
    return mp4, y4m


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("camera")
    return {
        "left": _clip(
            folder / "left",
            [("black", 1), ("top:sway_left_clean.mp4", 1.5), ("sway_left_clean.mp4", 6), ("black", 2)],
        ),
        "right": _clip(
            folder / "right",
            [("black", 1), ("top:sway_right_clean.mp4", 1.5), ("sway_right_clean.mp4", 6), ("black", 2)],
        ),
        # Both legs: the rest between them (5 s) passes while nobody is in view.
        "both": _clip(
            folder / "both",
            [("black", 2), ("sway_left_clean.mp4", 6), ("black", 7), ("sway_right_clean.mp4", 6), ("black", 2)],
        ),
        # A man standing on both feet the whole time.
        "still": _clip(folder / "still", [("neg_tfexamples_image2_standing_man_pixabay.jpeg", 6)]),
    }


class Server:
    def __init__(self, root: Path) -> None:
        import uvicorn

        from balance.web.app import create_app
        from balance.web.settings import WebSettings

        self.root = root
        self.db = str(root / "history.db")
        self.port = free_port()
        app = create_app(WebSettings(data_dir=root / "web", db=self.db, port=self.port))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def job_folder(self, job_id: str) -> Path:
        return self.root / "web" / "jobs" / job_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("web"))
    s.thread.start()
    deadline = time.monotonic() + 30
    while not s.server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield s
    s.server.should_exit = True
    s.thread.join(15)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    sync = pytest.importorskip("playwright.sync_api")
    with sync.sync_playwright() as p:
        yield p


def _browser(playwright: Any, *flags: str) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*FLAGS, *flags])


def _steps(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#steps li", "els => els.map(e => ({phase: e.dataset.phase, t: e.dataset.t, text: e.textContent}))"
    )


def _record(
    playwright: Any, server: Server, camera: Path, name: str, leg: str, *, stop_at: str | None = None
) -> dict[str, Any]:
    """Run one test on the Record page; returns the steps shown, the page's last words and the job's id."""
    SHOTS.mkdir(exist_ok=True)
    browser = _browser(playwright, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={camera}")
    try:
        page = browser.new_page(viewport={"width": 1000, "height": 1000})
        page.goto(f"{server.url}/record")
        page.fill("#name", name)
        page.select_option("#leg", leg)
        page.fill("#duration", "30")
        page.click("#start")
        shot, speed, steps = False, "", []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "/jobs/" not in page.url:
            try:
                now = _steps(page)
            except Exception:  # noqa: BLE001 - the page is navigating to the job between two looks
                page.wait_for_url("**/jobs/*", timeout=60_000)
                break
            steps = now if len(now) >= len(steps) else steps  # an empty list: the job page is loading
            phases = [s["phase"] for s in steps]
            if not shot and "holding" in phases:
                time.sleep(0.7)
                page.screenshot(path=str(SHOTS / f"{camera.stem}-mid.png"))
                speed = page.inner_text("#speed")
                shot = True
            if stop_at in phases and page.is_enabled("#stop"):
                time.sleep(0.5)
                page.screenshot(path=str(SHOTS / f"{camera.stem}-mid.png"))
                page.click("#stop")
            if page.locator("#job-link").count() or page.is_visible("#problem"):
                break
            time.sleep(0.1)
        out = {"url": page.url, "speed": speed, "steps": steps, "problem": ""}
        if "/jobs/" not in page.url:
            out["problem"] = page.inner_text("#problem") if page.is_visible("#problem") else ""
            out["summary"] = page.inner_text("#summary")
            href = page.get_attribute("#job-link", "href") if page.locator("#job-link").count() else None
            out["job"] = href.rsplit("/", 1)[-1] if href else None
        else:
            out["job"] = page.url.rsplit("/", 1)[-1]
            _wait_for_job(page, server)
            result = browser.new_page(viewport={"width": 1000, "height": 1000})  # the job page reloads itself
            result.goto(out["url"])
            result.screenshot(path=str(SHOTS / f"{camera.stem}-result.png"), full_page=True)
            out["result_text"] = result.inner_text("main")
        return out
    finally:
        browser.close()


def _wait_for_job(page: Any, server: Server, timeout_s: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = json.loads(page.request.get(page.url, headers={"Accept": "application/json"}).text())
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(1)
    raise AssertionError(f"the job at {page.url} did not finish in {timeout_s} s")


def _live_and_offline(server: Server, job: str) -> tuple[dict[str, Any], dict[str, Any]]:
    folder = server.job_folder(job)
    live = json.loads((folder / "live.json").read_text())
    doc = json.loads((folder / "results" / "analysis.json").read_text())
    return live, doc


def _phase_order(steps: list[dict[str, str]]) -> list[str]:
    out: list[str] = []
    for s in steps:
        if not out or out[-1] != s["phase"]:
            out.append(s["phase"])
    return out


def _check_against_analyze(source: Path, doc: dict[str, Any], live: dict[str, Any], legs: list[str]) -> None:
    """The uploaded clip's analysis: the same legs and holds as `balance analyze` on the source clip; the live
    timer started within AGREE_S of the offline lift-off."""
    # The source thinned as the recording was: MediaPipe smooths a landmark's visibility frame by frame, so feet
    # coming into view (these clips start with the subject already on one leg) are trusted about 0.3 s later at 15
    # frames a second than at 30, and the hold starts that much later. A recording the default rate thinned (a
    # 24 fps browser clip: 12 a second) is compared with the source at the default; one it kept whole (20 fps and
    # below) with the source at every frame.
    whole = doc["clip"]["analysed_fps"] >= doc["clip"]["fps_nominal"] - 0.5
    reference = analyze(source, max_fps=None) if whole else analysed(source)
    assert not isinstance(reference, Exception), reference
    ref = [(m.trial.stance_leg, m.trial.hold_s) for m in reference.trials]
    got = [(t["stance_leg"], t["hold_s"]) for t in doc["trials"]]
    assert [leg for leg, _ in got] == [leg for leg, _ in ref] == legs
    for (_, hold), (_, ref_hold) in zip(got, ref, strict=True):
        assert hold == pytest.approx(ref_hold, abs=AGREE_S), (got, ref)
    assert [t["stance_leg"] for t in live["trials"]] == legs
    for trial, offline in zip(live["trials"], doc["trials"], strict=True):
        assert trial["lift_off_s"] == pytest.approx(offline["lift_off_s"], abs=AGREE_S), (live["trials"], got)


@pytest.mark.slow
@in_chromium
@pytest.mark.parametrize("leg", ["left", "right"])
def test_one_leg_recorded_in_the_browser(
    playwright: Any, server: Server, clips: dict[str, tuple[Path, Path]], leg: str
) -> None:
    source, camera = clips[leg]
    name = f"Browser {leg}"
    out = _record(playwright, server, camera, name, leg)
    assert "/jobs/" in out["url"], out
    live, doc = _live_and_offline(server, out["job"])
    # Every state the machine went through, in order, with the prompts of `balance record`.
    assert [p for _, p in live["transitions"]] == ["waiting_for_subject", *PHASES[1:], "finished"]
    free = "right" if leg == "left" else "left"
    # The page showed them too, as they happened (read until it moved on to the job).
    shown = _phase_order(out["steps"])
    assert shown == ["waiting_for_subject", *PHASES[1:], "finished"][: len(shown)] and len(shown) >= 5, shown
    texts = [s["text"].split(": ", 1)[1] for s in out["steps"]]
    for prompt in (
        "step back until your feet are in view",
        "step into the picture",
        "hold still, hands on hips",
        f"{leg} leg: lift your {free} foot in 3",
        f"lift your {free} foot",
        f"hold on your {leg} leg",
    ):
        assert prompt in texts, (prompt, texts)
    _check_against_analyze(source, doc, live, [leg])
    # The raw clip is kept beside the results (and its H.264 copied into an MP4 with a frame rate for the
    # analysis: no note about missing timestamps); the session is in the person's history.
    assert (server.job_folder(out["job"]) / "recording.webm").stat().st_size > 100_000
    # The analysis notes the leg the test asked for, as `balance record` does (it stood on that one).
    assert doc["clip"]["path"].endswith("recording.mp4"), doc["clip"]
    assert doc["notes"] == [f"recorded live: the test asked for the {leg} leg"], doc["notes"]
    with Store(server.db) as store:
        rows = store.trials(name)
    assert [r.stance_leg for r in rows] == [leg]
    assert f"{leg}" in out["result_text"]
    # The overlay showed its speed while the test ran.
    assert "fps" in out["speed"] and "latency" in out["speed"], out["speed"]
    stats = live["browser"]
    assert stats["frames_shown"] > 30
    print(
        f"{leg}: {stats['fps']:.1f} overlays/s, latency median {stats['latency_ms_median']:.0f} ms, "
        f"p95 {stats['latency_ms_p95']:.0f} ms; free foot {free}"
    )


@pytest.mark.slow
@in_chromium
def test_both_legs_one_after_the_other(playwright: Any, server: Server, clips: dict[str, tuple[Path, Path]]) -> None:
    source, camera = clips["both"]
    out = _record(playwright, server, camera, "Browser both", "both")
    assert "/jobs/" in out["url"], out
    live, doc = _live_and_offline(server, out["job"])
    phases = [p for _, p in live["transitions"]]
    assert phases == ["waiting_for_subject", *PHASES[1:], "waiting_for_subject", *PHASES[1:], "finished"], phases
    texts = [s["text"] for s in out["steps"]]
    assert any("rest, then the right leg" in t for t in texts), texts
    _check_against_analyze(source, doc, live, ["left", "right"])
    with Store(server.db) as store:
        assert sorted(r.stance_leg for r in store.trials("Browser both")) == ["left", "right"]


@pytest.mark.slow
@in_chromium
def test_both_feet_down_says_no_lift_off_was_seen(
    playwright: Any, server: Server, clips: dict[str, tuple[Path, Path]]
) -> None:
    source, camera = clips["still"]
    out = _record(playwright, server, camera, "Browser still", "left", stop_at="waiting_for_lift_off")
    assert "/record" in out["url"], out
    assert "No lift-off was seen" in out["summary"], out
    # In view from the first frame: the page's first step is already "hold still".
    shown = [p for p in _phase_order(out["steps"]) if p != "waiting_for_subject"]
    assert shown == [*PHASES[1:4], "finished"], shown
    # The recording is kept and analysed all the same; the analysis says what `balance analyze` says.
    assert out["job"], out
    folder = server.job_folder(out["job"])
    assert (folder / "recording.webm").is_file()
    deadline = time.monotonic() + 600
    while json.loads((folder / "job.json").read_text())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(1)
    job = json.loads((folder / "job.json").read_text())
    reference = analysed(source)
    assert isinstance(reference, BalanceError), reference
    assert job["state"] == "failed" and job["status"] == reference.http_status and reference.todo in job["message"]
    with Store(server.db) as store:
        assert store.trials("Browser still") == []


@in_chromium
@pytest.mark.parametrize(
    ("flags", "host", "words"),
    [
        # No camera at all: no fake device, permission granted.
        (["--use-fake-ui-for-media-stream"], "127.0.0.1", "No camera was found"),
        # The person (here: the browser's policy) refuses the camera.
        (["--use-fake-device-for-media-stream", "--deny-permission-prompts"], "127.0.0.1", "not allowed"),
        # A phone on the LAN over plain http: not a secure page, no camera API at all.
        ([*FAKE_CAMERA, "--host-resolver-rules=MAP phone.test 127.0.0.1"], "phone.test", "secure page"),
    ],
)
def test_camera_problems_are_explained(
    playwright: Any, server: Server, flags: list[str], host: str, words: str
) -> None:
    browser = _browser(playwright, *flags)
    try:
        page = browser.new_page()
        page.goto(f"http://{host}:{server.port}/record")
        page.fill("#name", "Camera check")
        page.click("#start")
        page.wait_for_selector("#problem:not([hidden])", timeout=30_000)
        assert words in page.inner_text("#problem")
        assert page.is_visible("#record-setup")  # the form stays, to try again
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"camera-{words.split()[0].lower()}.png"))
    finally:
        browser.close()


# --- the server's side, at HTTP level (the framework's test client; no browser) ------------------------------


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    from fastapi.testclient import TestClient

    from balance.web.app import create_app
    from balance.web.settings import WebSettings

    app = create_app(WebSettings(data_dir=tmp_path / "web", db=str(tmp_path / "history.db")))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        page = c.get("/record").text
        csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        yield c, csrf


def _start(c: Any, csrf: str, **fields: str) -> Any:
    form = {"name": "Sam", "leg": "left", "duration": "30", **fields}
    return c.post("/record/uploads", data=form, headers={"X-CSRF-Token": csrf, "Accept": "application/json"})


def test_chunks_are_taken_once_and_resume_at_the_servers_size(client: tuple[Any, str], tmp_path: Path) -> None:
    c, csrf = client
    made = _start(c, csrf)
    assert made.status_code == 201, made.text
    url = f"/record/uploads/{made.json()['id']}"
    h = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    data = (SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4").read_bytes()
    a, b, rest = data[:40_000], data[40_000:90_000], data[90_000:]
    assert c.put(f"{url}?offset=0", content=a, headers=h).json()["size"] == len(a)
    # The same chunk again (its answer was lost): acknowledged, not appended twice.
    assert c.put(f"{url}?offset=0", content=a, headers=h).json()["size"] == len(a)
    # A chunk beyond what the server holds (one went missing): refused with the size to resume from.
    gap = c.put(f"{url}?offset={len(a) + len(b)}", content=rest, headers=h)
    assert gap.status_code == 409 and gap.json()["size"] == len(a)
    assert c.get(url, headers=h).json()["size"] == len(a)
    assert c.put(f"{url}?offset={len(a)}", content=b, headers=h).json()["size"] == len(a) + len(b)
    assert c.put(f"{url}?offset={len(a) + len(b)}", content=rest, headers=h).json()["size"] == len(data)
    # Without the CSRF token, or from another session: refused.
    assert c.put(f"{url}?offset=0", content=a, headers={"Accept": "application/json"}).status_code == 403
    from fastapi.testclient import TestClient

    with TestClient(c.app, base_url="http://127.0.0.1") as other:
        other_csrf = other.get("/record").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        stranger = other.put(f"{url}?offset=0", content=a, headers={"X-CSRF-Token": other_csrf})
        assert stranger.status_code == 404
    done = c.post(f"{url}/finish", json={"fps": 20.0, "latency_ms_median": 80}, headers=h)
    assert done.status_code == 202, done.text
    folder = tmp_path / "web" / "jobs" / made.json()["id"]
    assert (folder / "recording.mp4").read_bytes() == data  # the clip exactly as sent, kept before analysis
    job = json.loads((folder / "job.json").read_text())
    assert job["name"] == "Sam" and job["clip"] == "recording.mp4"
    assert json.loads((folder / "live.json").read_text())["browser"]["fps"] == 20.0
    # Finished: no more chunks.
    assert c.put(f"{url}?offset={len(data)}", content=a, headers=h).status_code == 404


@pytest.mark.parametrize(
    ("fields", "words"),
    [({"name": ""}, "needs a name"), ({"leg": "up"}, "not left, right or both"), ({"duration": "2"}, "trial length")],
)
def test_bad_settings_are_refused_before_the_camera_starts(
    client: tuple[Any, str], fields: dict[str, str], words: str
) -> None:
    c, csrf = client
    r = _start(c, csrf, **fields)
    assert r.status_code == 422 and words in r.json()["error"], r.text


def test_a_recording_that_is_not_a_video_is_refused_and_kept(client: tuple[Any, str], tmp_path: Path) -> None:
    c, csrf = client
    h = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    upload_id = _start(c, csrf).json()["id"]
    c.put(f"/record/uploads/{upload_id}?offset=0", content=b"not a video at all" * 100, headers=h)
    r = c.post(f"/record/uploads/{upload_id}/finish", json={}, headers=h)
    assert r.status_code == 415 and "the recording" in r.json()["error"], r.text
    assert not (tmp_path / "web" / "jobs" / upload_id / "job.json").exists()


def _cookie(c: Any) -> dict[str, str]:
    """The page's session cookie, which the browser sends with the WebSocket handshake."""
    return {"cookie": f"balance_session={c.cookies['balance_session']}"}


def _frame(number: int, t_s: float, image: Any) -> bytes:
    import struct

    import cv2

    ok, jpeg = cv2.imencode(".jpg", image)
    assert ok
    return struct.pack("<Id", number, t_s) + jpeg.tobytes()


def test_live_socket_judges_the_newest_frame_and_drops_the_rest(client: tuple[Any, str], tmp_path: Path) -> None:
    from balance.video.reader import VideoReader

    c, csrf = client
    upload_id = _start(c, csrf).json()["id"]
    with VideoReader(SYNTHETIC / "sway_left_clean.mp4") as reader:
        frames = [f for _, f in zip(range(20), reader, strict=False)]
    with c.websocket_connect(f"/record/live?upload={upload_id}", headers=_cookie(c)) as ws:
        hello = ws.receive_json()
        assert hello["hello"] and len(hello["body"]) > 5 and set(hello["limbs"]) == {"left", "right"}
        assert hello["colours"]["stance"] == "#ffd700" and set(hello["ankle"]) == {"left", "right"}
        ws.send_bytes(_frame(1, frames[0].t_s, frames[0].image))
        first = ws.receive_json()
        assert first["frame"] == 1 and len(first["xy"]) == 33 and first["prompt"]
        assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in first["xy"][23:29])  # hips to ankles, in the picture
        # Five frames at once: the ones that arrive while a frame is judged are replaced, not queued.
        for i, f in enumerate(frames[1:6], start=2):
            ws.send_bytes(_frame(i, f.t_s, f.image))
        answers = [ws.receive_json()]
        while answers[-1]["frame"] != 6:
            answers.append(ws.receive_json())
        assert len(answers) < 5 and answers[-1]["dropped"] == 5 - len(answers)
        ws.send_text(json.dumps({"stop": True}))
        last = ws.receive_json()
        assert last["phase"] == "finished" and "No lift-off was seen" in last["summary"][0]
    live = json.loads((tmp_path / "web" / "jobs" / upload_id / "live.json").read_text())
    assert live["trials"] == [] and live["server"]["frames_judged"] == 1 + len(answers)


def test_live_socket_needs_the_pages_session_and_origin(client: tuple[Any, str]) -> None:
    from fastapi.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    c, csrf = client
    upload_id = _start(c, csrf).json()["id"]
    # A session that has opened the app, but not this recording's.
    with TestClient(c.app, base_url="http://127.0.0.1") as stranger:
        stranger.get("/record")
        with (
            pytest.raises(WebSocketDisconnect),
            stranger.websocket_connect(f"/record/live?upload={upload_id}", headers=_cookie(stranger)) as ws,
        ):
            ws.receive_json()
    # No session cookie at all, another site's page, a recording that does not exist.
    for url, headers in [
        (f"/record/live?upload={upload_id}", {}),
        (f"/record/live?upload={upload_id}", {**_cookie(c), "Origin": "http://evil.test"}),
        ("/record/live?upload=0123abcd", _cookie(c)),
    ]:
        with pytest.raises(WebSocketDisconnect), c.websocket_connect(url, headers=headers) as ws:
            ws.receive_json()


def test_serve_https_with_its_own_certificate(tmp_path: Path) -> None:
    """`balance serve --https`: the certificate is made once, names this computer, and the app answers over TLS
    with a Secure session cookie; a second start reuses the certificate."""
    import os
    import ssl
    import sys

    import httpx

    from balance.web.tls import certificate

    port = free_port()
    data = tmp_path / "web"
    cmd = [sys.executable, "-m", "balance.cli.main", "serve", "--https", "--no-browser", "--port", str(port)]
    cmd += ["--data", str(data), "--db", str(tmp_path / "h.db")]
    fingerprints = []
    for _ in range(2):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline(), proc.stdout.readline()]
            assert lines[0].startswith(f"balance serve: https://127.0.0.1:{port}/"), lines
            assert "SHA-256" in lines[1] and "warns the first time" in lines[1], lines
            fingerprints.append(lines[1].split("SHA-256 ", 1)[1].split(")", 1)[0])
            context = ssl.create_default_context(cafile=str(data / "tls" / "cert.pem"))
            deadline = time.monotonic() + 30
            while True:
                try:
                    r = httpx.get(f"https://127.0.0.1:{port}/record", verify=context)
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "balance serve --https did not answer"
                    time.sleep(0.2)
            assert r.status_code == 200 and "Record a test" in r.text
            assert "secure" in r.headers["set-cookie"].lower()
        finally:
            proc.terminate()
            proc.wait(15)
    assert fingerprints[0] == fingerprints[1]  # made once, then reused
    assert (data / "tls" / "key.pem").stat().st_mode & 0o077 == 0  # the private key is the user's alone
    assert "127.0.0.1" in certificate(data / "tls", "127.0.0.1").names


@pytest.mark.slow
def test_a_recording_whose_page_went_away_is_analysed_all_the_same(
    client: tuple[Any, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from balance.web import record

    monkeypatch.setattr(record, "ORPHAN_S", 0.5)
    c, csrf = client
    h = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    upload_id = _start(c, csrf).json()["id"]
    data = (SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4").read_bytes()
    with c.websocket_connect(f"/record/live?upload={upload_id}", headers=_cookie(c)) as ws:
        ws.receive_json()
        c.put(f"/record/uploads/{upload_id}?offset=0", content=data, headers=h)
    # The tab closed: no finish. What the server holds is kept and queued for analysis.
    folder = tmp_path / "web" / "jobs" / upload_id
    deadline = time.monotonic() + 20
    while not (folder / "job.json").exists():
        assert time.monotonic() < deadline, "the abandoned recording was not queued"
        time.sleep(0.1)
    assert (folder / "recording.mp4").read_bytes() == data
    assert json.loads((folder / "job.json").read_text())["name"] == "Sam"
    # Its analysis is that of any recorded test: the leg the test asked for is noted beside what the clip shows.
    while (state := c.get(f"/jobs/{upload_id}", headers=h).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline + 600, "the abandoned recording's analysis did not finish"
        time.sleep(0.3)
    assert state["state"] == "done", state
    notes = json.loads((folder / "results" / "analysis.json").read_text())["notes"]
    assert any(n.startswith("recorded live: the test asked for the left leg") for n in notes), notes
