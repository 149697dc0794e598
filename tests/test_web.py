"""The web app over HTTP with the framework's test client: real clips, real worker processes, real history.

Upload a sample clip, follow the job to its result and the history row; every bad upload gives a 4xx with the
CLI's one-line message and leaves nothing behind; the token off localhost; escaping; downloads confined to the
job's results folder.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from balance.history.store import Store
from balance.results.document import to_json
from balance.web.app import create_app
from balance.web.jobs import INTERRUPTED
from balance.web.settings import WebSettings
from tests.conftest import SAMPLES, analysed

pytestmark = pytest.mark.slow

LEFT = SAMPLES / "synthetic" / "sway_left_clean.mp4"
SHORT = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
BOTH_FEET = SAMPLES / "neg_tfjs_woman_band_squats.mp4"
PHOTO = SAMPLES / "neg_tfexamples_image2_standing_man_pixabay.jpeg"
XSS = "<img src=x onerror=alert(1)>"


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page)
    assert found, "every page carries the session's CSRF token"
    return found.group(1)


class Web:
    """A test client with the session's CSRF token, and helpers for uploads and jobs."""

    def __init__(self, client: TestClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.csrf = csrf_of(client.get("/").text)

    def upload(self, *clips: Path, as_json: bool = True, names: list[str] | None = None, **fields: Any) -> Any:
        files = [
            ("clips", ((names or [])[i] if names else clip.name, clip.read_bytes(), "video/mp4"))
            for i, clip in enumerate(clips)
        ]
        headers = {"X-CSRF-Token": self.csrf}
        if as_json:
            headers["Accept"] = "application/json"
        data = {k: str(v) for k, v in fields.items()}
        return self.client.post("/upload", files=files, data=data, headers=headers, follow_redirects=False)

    def job(self, job_id: str) -> Any:
        return self.client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"})

    def wait(self, job_id: str, timeout_s: float = 600) -> dict[str, Any]:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            state = self.job(job_id).json()
            if state["state"] not in ("queued", "running"):
                return state
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} did not finish in {timeout_s} s")


def make_web(tmp: Path, **overrides: Any) -> Iterator[Web]:
    settings = WebSettings(data_dir=tmp / "data", db=str(tmp / "history.db"), **overrides)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield Web(client, tmp / "data" / "jobs")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    yield from make_web(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def done(web: Web) -> dict[str, Any]:
    """One clip uploaded for Sam and followed to its result: the job's final state."""
    response = web.upload(
        LEFT, name="Sam", week=1, height_cm=165, notes="barefoot", eyes="closed", surface="foam", age=52
    )
    assert response.status_code == 202, response.text
    (job,) = response.json()["jobs"]
    return web.wait(job["id"])


def test_upload_follows_to_the_same_result_as_the_library(web: Web, done: dict[str, Any]) -> None:
    assert done["state"] == "done", done
    expected = to_json(analysed(LEFT, 165))  # what `balance analyze --height-cm 165` computes
    saved = json.loads(web.client.get(f"/jobs/{done['id']}/files/analysis.json").text)
    assert [t["stance_leg"] for t in saved["trials"]] == [t["stance_leg"] for t in expected["trials"]] == ["left"]
    assert saved["trials"][0]["hold_s"] == expected["trials"][0]["hold_s"]
    assert saved["trials"][0]["score"] == expected["trials"][0]["score"]
    assert saved["trials"][0]["flags"] == expected["trials"][0]["flags"]
    page = web.client.get(f"/jobs/{done['id']}").text
    score = expected["trials"][0]["score"]
    assert "left leg" in page and f"{score['value']:.0f}</strong> / 100" in page and f"± {score['mdc']:.1f}" in page
    assert "annotated.mp4" in page and "sway_trial1.png" in page
    assert (
        str(escape(expected["trials"][0]["tripod"]["answer_words"])) in page
    )  # outside, centred, inside or cannot tell
    assert "Saved 1 trial to Sam" in done["message"] and "week 1" in done["message"]


def test_the_history_row_and_person_page(web: Web, done: dict[str, Any]) -> None:
    with Store(web.root.parent.parent / "history.db") as store:
        (row,) = store.trials("Sam")
    assert row.stance_leg == "left" and row.notes == "barefoot" and row.unit == "cm"
    with Store(web.root.parent.parent / "history.db") as store:  # the form's conditions and age, as data
        assert (row.conditions.eyes, row.conditions.surface, store.birth_year("Sam")) == (
            "closed",
            "foam",
            date.today().year - 52,
        )
    page = web.client.get("/person", params={"name": "sam"}).text
    assert "eyes closed, foam" in page and "no published age reference for single-leg stance on foam" in page
    assert "Sam" in page and f"{row.hold_s:.1f}+" in page and 'src="/person/trend.png?name=Sam"' in page
    png = web.client.get("/person/trend.png", params={"name": "Sam"})
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    home = web.client.get("/").text
    assert "/person?name=Sam" in home and "Last test: " in home
    csv = web.client.get("/person/export.csv", params={"name": "Sam"})
    assert csv.status_code == 200 and csv.text.splitlines()[1].startswith("Sam,")
    exported = web.client.get("/person/export.json", params={"name": "Sam"}).json()
    assert exported["person"] == "Sam" and len(exported["trials"]) == 1


def test_progress_is_pushed_as_server_sent_events(web: Web, done: dict[str, Any]) -> None:
    with web.client.stream("GET", f"/jobs/{done['id']}/events") as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in events.iter_lines() if line.startswith("data: ")]
    assert json.loads(lines[-1][6:])["state"] == "done"


def test_downloads(web: Web, done: dict[str, Any]) -> None:
    base = f"/jobs/{done['id']}"
    frames = web.client.get(f"{base}/files/frames.csv")
    assert frames.status_code == 200 and frames.text.startswith("t_s,frame_index")
    video = web.client.get(f"{base}/files/annotated.mp4", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and len(video.content) == 100  # seekable in the page's player
    report = web.client.get(f"{base}/files/report.html")
    assert report.status_code == 200 and "style-src 'unsafe-inline'" in report.headers["content-security-policy"]
    if shutil.which("chromium") is None:
        pytest.skip("chromium not installed (scripts/install_chromium.sh): no PDF")
    pdf = web.client.get(f"{base}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    "path",
    [
        "../job.json",
        "..%2fjob.json",
        "..%2Fjob.json",
        "%2e%2e%2fjob.json",
        "%2e%2e/%2e%2e/history.db",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "..%5cjob.json",
        ".analysis.json.partial",
        "link.json",
        "inside.json",
        "nothing.json",
    ],
)
def test_downloads_only_from_the_jobs_own_results(web: Web, done: dict[str, Any], path: str) -> None:
    results = web.root / done["id"] / "results"
    if not (results / "link.json").is_symlink():
        (results / "link.json").symlink_to(web.root / done["id"] / "job.json")
        (results / "inside.json").symlink_to(results / "analysis.json")
    raw = f"http://127.0.0.1:8000/jobs/{done['id']}/files/{path}"
    response = web.client.get(raw)
    assert response.status_code == 404, (path, response.status_code)
    assert "job" not in response.text.lower() or "nothing at this address" in response.text


def _refused(web: Web, response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["error"]
    assert "Traceback" not in response.text and "\n" not in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "filename", "status", "words"),
    [
        (b"this is a text file, not a video\n" * 50, "notes.mp4", 415, "notes.mp4 is not a video file"),
        (b"", "empty.mp4", 415, "empty.mp4 is empty (0 bytes)"),
        (PHOTO.read_bytes(), "photo.mp4", 415, "photo.mp4 is a still image"),
        (LEFT.read_bytes()[:20000], "cut.mp4", 415, "cut.mp4"),
    ],
)
def test_bad_uploads_are_refused_with_the_clis_message(
    web: Web, tmp_path: Path, content: bytes, filename: str, status: int, words: str
) -> None:
    before = sorted(p.name for p in web.root.iterdir())
    bad = tmp_path / "bad"
    bad.write_bytes(content)
    _refused(web, web.upload(bad, names=[filename]), status, words)
    assert sorted(p.name for p in web.root.iterdir()) == before  # nothing stored


def test_a_good_clip_with_a_bad_one_stores_neither(web: Web, tmp_path: Path) -> None:
    before = sorted(p.name for p in web.root.iterdir())
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 100)
    _refused(web, web.upload(SHORT, bad), 415, "bad.mp4 is not a video file")
    assert sorted(p.name for p in web.root.iterdir()) == before


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"week": "60", "name": "Sam"}, "week 60 is outside 1-52"),
        ({"week": "two", "name": "Sam"}, "week 'two' is not a number"),
        ({"height_cm": "20"}, "20 cm is not a plausible standing height (80-250 cm)"),
        ({"week": "2"}, "a week needs a name"),
        ({"name": "x" * 101}, "longer than 100"),
        ({"name": "Sam", "surface": "sand"}, "the surface 'sand' is none of floor, foam, disc, bosu"),
        ({"name": "Sam", "age": "200"}, "age 200 is outside 1-120"),
    ],
)
def test_bad_form_values(web: Web, fields: dict[str, str], words: str) -> None:
    _refused(web, web.upload(SHORT, **fields), 422, words)


def test_no_clip_and_no_csrf(web: Web) -> None:
    _refused(
        web,
        web.client.post("/upload", headers={"X-CSRF-Token": web.csrf, "Accept": "application/json"}),
        415,
        "no clip",
    )
    response = web.client.post("/upload", files=[("clips", ("a.mp4", SHORT.read_bytes()))])
    assert response.status_code == 403 and "CSRF" in response.text
    wrong = web.client.post("/upload", files=[("clips", ("a.mp4", b"x"))], headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    foreign = web.client.post(
        "/upload", headers={"X-CSRF-Token": web.csrf, "Origin": "http://evil.example"}, files=[("clips", ("a", b"x"))]
    )
    assert foreign.status_code == 403 and "evil.example" in foreign.text
    for path in ("/person/programme?name=A", "/person/delete?name=Sam&session=1"):
        assert web.client.post(path, data={"weeks": "6"}).status_code == 403


def test_analysis_errors_show_the_clis_message_and_save_nothing(web: Web) -> None:
    response = web.upload(BOTH_FEET, name="Nobody")
    assert response.status_code == 202
    state = web.wait(response.json()["jobs"][0]["id"])
    assert state["state"] == "failed" and state["status"] == 422
    expected = analysed(BOTH_FEET)
    assert state["message"] == str(expected).replace(str(BOTH_FEET), BOTH_FEET.name)
    page = web.client.get(f"/jobs/{state['id']}")
    assert page.status_code == 422 and "no single-leg stance" in page.text.lower()
    assert not (web.root / state["id"] / "results").exists()
    missing = web.client.get("/person", params={"name": "Nobody"})
    assert missing.status_code == 404 and "no one called &#39;Nobody&#39; in the history" in missing.text


def test_no_js_form_redirects_to_a_page_that_refreshes(web: Web) -> None:
    response = web.client.post(
        f"/upload?csrf={web.csrf}",
        files=[("clips", ("short.mp4", SHORT.read_bytes(), "video/mp4"))],
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    page = web.client.get(response.headers["location"]).text
    job_id = response.headers["location"].rsplit("/", 1)[1]
    if web.job(job_id).json()["state"] in ("queued", "running"):
        assert '<meta http-equiv="refresh"' in page
    cancel = web.client.post(f"/jobs/{job_id}/cancel?csrf={web.csrf}", follow_redirects=False)
    assert cancel.status_code == 303
    final = web.wait(job_id)
    assert final["state"] in ("cancelled", "done")
    if final["state"] == "cancelled":
        assert not (web.root / job_id / "results").exists() and not (web.root / job_id / "staging").exists()


def test_queue_and_cancel_a_queued_job(web: Web) -> None:
    response = web.upload(LEFT, SHORT, name="Queue")
    first, second = (j["id"] for j in response.json()["jobs"])
    assert web.job(second).json()["state"] == "queued"  # one worker: the second waits
    cancelled = web.client.post(
        f"/jobs/{second}/cancel", headers={"X-CSRF-Token": web.csrf, "Accept": "application/json"}
    )
    assert cancelled.json()["state"] == "cancelled"
    web.client.post(f"/jobs/{first}/cancel", headers={"X-CSRF-Token": web.csrf, "Accept": "application/json"})
    assert web.wait(first)["state"] == "cancelled"
    assert not (web.root / first / "results").exists()
    assert web.client.get("/person", params={"name": "Queue"}).status_code == 404


def test_names_and_file_names_are_escaped(web: Web, tmp_path: Path) -> None:
    response = web.client.post(
        "/person/programme", params={"name": XSS, "csrf": web.csrf}, data={"weeks": "6"}, follow_redirects=False
    )
    assert response.status_code == 303
    for page in (web.client.get("/").text, web.client.get("/person", params={"name": XSS}).text):
        assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"nope" * 10)
    shown = web.client.post(
        f"/upload?csrf={web.csrf}", files=[("clips", ("<script>alert(1)</script>.mp4", bad.read_bytes()))]
    )
    assert shown.status_code == 415 and "<script>alert(1)" not in shown.text and "&lt;script&gt;" in shown.text


def test_delete_a_session_with_confirmation(web: Web, done: dict[str, Any]) -> None:
    response = web.upload(SHORT, name="Del")
    state = web.wait(response.json()["jobs"][0]["id"])
    assert state["state"] == "done", state
    with Store(web.root.parent.parent / "history.db") as store:
        (row,) = store.trials("Del")
    confirm = web.client.get("/person/delete", params={"name": "Del", "session": row.session_id})
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    gone = web.client.post(
        "/person/delete",
        params={"name": "Del", "session": row.session_id, "csrf": csrf_of(confirm.text)},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    with Store(web.root.parent.parent / "history.db") as store:
        assert store.trials("Del") == [] and len(store.trials("Sam")) == 1
    other = web.client.post("/person/delete", params={"name": "Sam", "session": row.session_id, "csrf": web.csrf})
    assert other.status_code == 409  # not Sam's session: nothing deleted


def test_token_required_off_localhost(tmp_path: Path) -> None:
    settings = WebSettings(data_dir=tmp_path, db=str(tmp_path / "h.db"), host="0.0.0.0", token="s3cret-token")
    with TestClient(create_app(settings), base_url="http://192.168.1.5:8000") as client:
        assert client.get("/").status_code == 401
        assert client.get("/jobs/abc/files/report.html").status_code == 401
        assert client.get("/", params={"token": "wrong"}).status_code == 403
        entry = client.get("/", params={"token": "s3cret-token"}, follow_redirects=False)
        assert (
            entry.status_code == 303
            and entry.headers["location"] == "/"
            and "httponly" in entry.headers["set-cookie"].lower()
        )
        assert client.get("/").status_code == 200  # the session cookie carries it now
    with TestClient(create_app(settings), base_url="http://192.168.1.5:8000") as bearer:
        assert bearer.get("/", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_limits(tmp_path: Path) -> None:
    for web in make_web(
        tmp_path, max_upload_bytes=1_000_000, max_form_bytes=1000, max_jobs_per_client=1, max_jobs_total=1
    ):
        assert LEFT.stat().st_size > 1_000_000 > 2 * SHORT.stat().st_size
        _refused(web, web.upload(LEFT), 413, "larger than this server accepts")
        big = web.client.post(
            "/person/programme", params={"name": "A", "csrf": web.csrf}, data={"weeks": "6", "x": "y" * 5000}
        )
        assert big.status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while the body streams in
            for _ in range(40):
                yield b"x" * 65536

        streamed = web.client.post(
            "/upload",
            content=chunks(),
            headers={"X-CSRF-Token": web.csrf, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert streamed.status_code == 413
        assert not list(web.root.iterdir())
        _refused(
            web,
            web.upload(SHORT, SHORT),
            429,
            "2 more clip(s) would give you 2 waiting or being analysed, over the limit of 1",
        )
        accepted = web.upload(SHORT)
        assert accepted.status_code == 202
        web.client.cookies.clear()  # another client (a new session) meets the server-wide limit
        web.csrf = csrf_of(web.client.get("/").text)
        _refused(web, web.upload(SHORT), 429, "the server has 1 clips waiting or being analysed and takes at most 1")
        job = accepted.json()["jobs"][0]["id"]
        web.client.post(f"/jobs/{job}/cancel", headers={"X-CSRF-Token": web.csrf})


def test_restart_fails_the_interrupted_job_and_requeues_the_waiting(tmp_path: Path) -> None:
    jobs = tmp_path / "data" / "jobs"
    for job_id, state in (("a" * 32, "running"), ("b" * 32, "queued")):
        (jobs / job_id).mkdir(parents=True)
        shutil.copy(SHORT, jobs / job_id / "clip")
        (jobs / job_id / "staging").mkdir()  # half-written results of the run that stopped
        record = {"id": job_id, "client": "c", "filename": "short.mp4", "clip": "clip", "state": state}
        (jobs / job_id / "job.json").write_text(json.dumps(record))
    for web in make_web(tmp_path):
        interrupted = web.job("a" * 32)
        assert interrupted.status_code == 500 and interrupted.json()["message"] == INTERRUPTED
        assert not (jobs / ("a" * 32) / "staging").exists()
        assert web.wait("b" * 32)["state"] == "done"
