"""The Record page: a live balance test in the browser, driven by the same trial state machine as `balance record`.

The browser shows its own camera picture and sends the newest frame (a JPEG at most 640 px wide) over a
WebSocket; the server runs the live pose model, `balance.live.session.LiveTest` (stance tracker and trial
machine) on it and answers with the landmarks and the machine's state, which the page draws over its video.
A frame that arrives while the previous one is still being judged replaces it: frames are dropped, never queued.

Meanwhile the browser records the full-quality clip (MediaRecorder) and uploads it in chunks at known offsets:
a chunk sent twice is taken once, a dropped connection resumes from the size the server reports, and what was
uploaded stays on the server whatever happens to the tab. Finishing the upload queues the clip as an analysis
job, the same as an uploaded clip: the raw recording is kept in the job's folder, the full offline analysis
runs in a worker process, and the result lands in the person's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import struct
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect

from balance.errors import BalanceError, UsageError, VideoError
from balance.files import write_atomic
from balance.live.machine import Phase, TrialMachine
from balance.live.options import LIVE_MODEL
from balance.live.session import Judged, LiveTest
from balance.live.window import METER_RANGE, shown_stance
from balance.measure.body import centre_of_mass
from balance.pose import landmarks as lm
from balance.pose.estimate import resolve_model
from balance.pose.landmarker import Landmarker
from balance.pose.skeleton import overlay_spec
from balance.video.remux import with_timestamps
from balance.web.deps import Client, HistoryDep, Jobs, Settings
from balance.web.forms import job_fields, live_options
from balance.web.jobs import Job, JobManager
from balance.web.pages import problem, render

UPLOAD = "upload.json"  # who may append, the person and the test's settings
PARTIAL = "recording.partial"  # the clip as it arrives; renamed when the browser says it is complete
LIVE = "live.json"  # the live judgement: trials, state changes, frame rate and latency
# A chunk is at most this big (MediaRecorder hands over a second or so at a time, well under it); the
# whole recording is held to the server's upload limit.
MAX_CHUNK = 8 * 1024 * 1024
# A recording whose page went away is analysed once no chunk has come for this long (a page that lost its
# connection gives up after about a minute of retries: record.js).
ORPHAN_S = 90.0
# Live tests at once: each runs a pose model on one core (15 ms a frame at 640x480, benchmarks/README).
MAX_LIVE = 2
FRAME_HEADER = struct.Struct("<Id")  # frame number (uint32), capture time in seconds from the recording's start
CAMERA_WORDS = "Only one person should be in the picture; the camera still, whole body and both feet in view."


@dataclass(frozen=True)
class Recording:
    """What the browser asked for when it started recording; kept beside the clip as upload.json."""

    client: str
    legs: tuple[str, ...]
    duration_s: float
    fields: dict[str, Any]  # name, week, height_cm, notes: checked as the upload form's
    started: float

    @classmethod
    def load(cls, folder: Path) -> Recording | None:
        try:
            data = json.loads((folder / UPLOAD).read_text())
            return cls(data["client"], tuple(data["legs"]), float(data["duration_s"]), data["fields"], data["started"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


class LiveSlots:
    """The live tests running now (each holds a pose model on a core), and the tasks that wait to analyse
    what a page that went away had uploaded: one per app, on `app.state.live`."""

    def __init__(self) -> None:
        self.running = 0
        self.orphans: set[asyncio.Task[None]] = set()  # held here: the event loop keeps only weak references

    def adopt(self, task: asyncio.Task[None]) -> None:
        self.orphans.add(task)
        self.orphans.difference_update([t for t in self.orphans if t.done()])


def get_live(conn: HTTPConnection) -> LiveSlots:
    slots: LiveSlots = conn.app.state.live
    return slots


Live = Annotated[LiveSlots, Depends(get_live)]
router = APIRouter(prefix="/record")


def _recording(jobs: JobManager, client: str, upload_id: str) -> tuple[Path, Recording]:
    folder = jobs.folder(upload_id) if upload_id.isalnum() else None
    rec = Recording.load(folder) if folder is not None else None
    # Another session's recording is as good as absent: 404, never a hint that it exists.
    if folder is None or rec is None or rec.client != client or (folder / "job.json").exists():
        raise HTTPException(404)
    return folder, rec


def get_recording(upload_id: str, jobs: Jobs, client: Client) -> tuple[Path, Recording]:
    """The caller's recording named in the path, not yet queued for analysis (404 otherwise)."""
    return _recording(jobs, client, upload_id)


Upload = Annotated[tuple[Path, Recording], Depends(get_recording)]


@router.get("")
async def record_page(request: Request, history: HistoryDep, name: str = "") -> Response:
    known = [p.name for p in await run_in_threadpool(history.people)]
    return render(request, "record.html", known=known, name=name)


@router.post("/uploads")
async def start(request: Request, settings: Settings, jobs: Jobs, client: Client) -> Response:
    """A new recording: the person and the test's settings are checked before the camera starts."""
    form = await request.form(max_files=0, max_fields=20, max_part_size=64 * 1024)
    try:
        fields = job_fields(form)
        if not fields["name"]:
            raise UsageError("a recorded test needs a name", "Give the person's name: the test is saved to it")
        test = live_options(form)
        if jobs.active_for(client) >= settings.max_jobs_per_client:
            raise UsageError(
                f"you already have {jobs.active_for(client)} clips waiting or being analysed",
                "Wait for them to finish before recording another test",
            )
    except BalanceError as exc:
        return problem(request, exc.http_status, str(exc))
    upload_id = jobs.new_id()
    folder = jobs.folder(upload_id)
    rec = Recording(client, test.legs, test.duration_s, fields, time.time())
    write_atomic(folder / UPLOAD, json.dumps(asdict(rec)))
    (folder / PARTIAL).touch()
    return JSONResponse({"id": upload_id, "size": 0, "max_chunk": MAX_CHUNK}, status_code=201)


@router.get("/uploads/{upload_id}")
async def upload_state(upload_id: str, upload: Upload) -> Response:
    folder, _ = upload
    return JSONResponse({"id": upload_id, "size": (folder / PARTIAL).stat().st_size})


@router.put("/uploads/{upload_id}")
async def chunk(request: Request, upload_id: str, offset: int, upload: Upload, settings: Settings) -> Response:
    """Append one chunk at `offset`; a chunk the server already holds is acknowledged, not written twice."""
    folder, _ = upload
    target = folder / PARTIAL
    size = target.stat().st_size
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > MAX_CHUNK:
            return problem(request, 413, f"a chunk is larger than {MAX_CHUNK // 1024**2} MB. Send smaller ones")
    end = offset + len(body)
    if offset > size or offset < 0:
        return JSONResponse({"error": f"the server holds {size} bytes, not {offset}", "size": size}, 409)
    if end > settings.max_upload_bytes:
        return problem(request, 413, "the recording is longer than this server accepts. Record a shorter test")
    if end > size:
        with target.open("r+b") as out:
            out.seek(offset)
            out.write(body)
            out.flush()
            os.fsync(out.fileno())  # acknowledged means on disk: a server crash keeps every acked byte
    return JSONResponse({"id": upload_id, "size": max(size, end)})


async def _queue(jobs: JobManager, upload_id: str, folder: Path, rec: Recording, stats: dict[str, Any]) -> Job:
    """Keep the clip under its final name and queue its full analysis; VideoError when it is not a video."""
    clip = folder / f"recording{_container(folder / PARTIAL)}"
    os.replace(folder / PARTIAL, clip)  # the raw clip is kept from here on, whatever its analysis says
    live = folder / LIVE
    judged = json.loads(live.read_text()) if live.is_file() else {}
    write_atomic(live, json.dumps({**judged, "browser": stats}))
    try:
        from balance.video.reader import probe

        await run_in_threadpool(probe, clip)
    except VideoError as exc:
        os.replace(clip, folder / PARTIAL)  # not a clip the library can read: the browser may send it again
        raise VideoError(exc.what.replace(str(clip), "the recording"), exc.todo) from exc
    analysed = await run_in_threadpool(with_timestamps, clip)
    when = datetime.fromtimestamp(rec.started).strftime("%Y-%m-%d %H:%M")
    return jobs.submit(
        Job(
            id=upload_id,
            client=rec.client,
            filename=f"recording {when}",
            clip=analysed.name,
            legs=rec.legs,
            **rec.fields,
        )
    )


async def _adopt(jobs: JobManager, upload_id: str, folder: Path, rec: Recording) -> None:
    """The page went away (tab closed, connection lost) without finishing: once no chunk has come for
    ORPHAN_S, analyse what was uploaded, so a closed tab loses nothing the server holds."""
    while not (folder / "job.json").exists() and (folder / PARTIAL).is_file():
        idle = time.time() - (folder / PARTIAL).stat().st_mtime
        if idle >= ORPHAN_S:
            if (folder / PARTIAL).stat().st_size:
                with contextlib.suppress(VideoError):  # nothing readable arrived: the folder stays as it is
                    await _queue(jobs, upload_id, folder, rec, {})
            return
        await asyncio.sleep(min(ORPHAN_S - idle, ORPHAN_S) + 0.05)


@router.post("/uploads/{upload_id}/finish")
async def finish(request: Request, upload_id: str, upload: Upload, jobs: Jobs) -> Response:
    """The browser has sent the whole clip: keep it, and queue its full analysis as a job."""
    folder, rec = upload
    try:
        stats = _browser_stats(await request.json())
    except ValueError:
        return problem(request, 400, "the recording's statistics are not JSON. Reload the page and record again")
    try:
        job = await _queue(jobs, upload_id, folder, rec, stats)
    except VideoError as exc:
        return problem(request, exc.http_status, str(exc))
    return JSONResponse({"job": job.id, "url": f"/jobs/{job.id}"}, status_code=202)


@router.websocket("/live")
async def live(ws: WebSocket, jobs: Jobs, client: Client, slots: Live) -> None:
    upload_id = ws.query_params.get("upload", "")
    try:
        folder, rec = _recording(jobs, client, upload_id)
    except HTTPException:
        await ws.close(code=1008, reason="no such recording for this session")
        return
    if slots.running >= MAX_LIVE:
        await ws.close(code=1013, reason=f"{MAX_LIVE} live tests are running; try again when one has finished")
        return
    slots.running += 1
    try:
        await ws.accept()
        await _run_live(ws, folder, rec)
    finally:
        slots.running -= 1
    if folder.is_dir() and not (folder / "job.json").exists():
        slots.adopt(asyncio.create_task(_adopt(jobs, upload_id, folder, rec)))


async def _run_live(ws: WebSocket, folder: Path, rec: Recording) -> None:
    """Judge the newest frame, answer with the state; the browser's `stop` ends the test where it is."""
    pose = await run_in_threadpool(Landmarker, resolve_model(LIVE_MODEL))
    machine = TrialMachine(rec.legs, rec.duration_s)
    test = LiveTest(pose, machine)
    await ws.send_json({"hello": True, **overlay_spec(), "meter": METER_RANGE})
    newest: dict[str, Any] = {}
    arrived = asyncio.Event()
    dropped = 0
    judged: list[float] = []  # when each frame's answer went out (monotonic s): the judged frame rate

    async def receive() -> None:
        nonlocal dropped
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message.get("bytes"):
                    dropped += "frame" in newest  # the one waiting was never judged: replaced, not queued
                    newest["frame"] = message["bytes"]
                elif message.get("text") and json.loads(message["text"]).get("stop"):
                    newest["stop"] = True
                arrived.set()
        except (WebSocketDisconnect, ValueError):
            pass
        newest["gone"] = True
        arrived.set()

    reader = asyncio.create_task(receive())
    try:
        while not machine.finished:
            await arrived.wait()
            arrived.clear()
            if "gone" in newest:
                break
            if newest.pop("stop", False):
                machine.stop()
                break
            frame = newest.pop("frame", None)
            if frame is not None:
                state = await run_in_threadpool(_judge, test, frame)
                if state is not None:
                    await ws.send_json({**state, "dropped": dropped})
                    judged.append(time.monotonic())
        machine.stop()
        if not test.meter.times and (folder / PARTIAL).stat().st_size == 0:
            shutil.rmtree(folder, ignore_errors=True)  # closed before any frame (no camera): nothing to keep
            return
        span = judged[-1] - judged[0] if len(judged) > 1 else 0.0
        rate = {
            "frames_judged": len(judged),
            "frames_dropped": dropped,
            "judged_fps": _num((len(judged) - 1) / span) if span else None,
        }
        write_atomic(folder / LIVE, json.dumps({**_summary(test), "server": rate}))
        if "gone" not in newest:
            await ws.send_json({**_state(test, None, 0, 0), "summary": _summary_words(machine), "dropped": dropped})
            await ws.close()
    finally:
        reader.cancel()
        pose.close()


def _container(path: Path) -> str:
    """The recording's extension from its first bytes: MP4 (H.264, what the page asks for) or WebM."""
    with path.open("rb") as f:
        head = f.read(12)
    return ".mp4" if head[4:8] == b"ftyp" else ".webm"


def _judge(test: LiveTest, message: bytes) -> dict[str, Any] | None:
    """One frame: header (number, capture time) then a JPEG; None for a message that is neither."""
    if len(message) <= FRAME_HEADER.size:
        return None
    number, t_s = FRAME_HEADER.unpack_from(message)
    image = cv2.imdecode(np.frombuffer(message, np.uint8, offset=FRAME_HEADER.size), cv2.IMREAD_COLOR)
    if image is None or not math.isfinite(t_s) or t_s < 0:
        return None
    judged = test.update(image, t_s)
    state = _state(test, judged, image.shape[1], image.shape[0])
    state["frame"] = number
    return state


def _state(test: LiveTest, judged: Judged | None, w: int, h: int) -> dict[str, Any]:
    """What the page draws: the machine's phase and prompt, the timer, and the skeleton in 0-1 coordinates."""
    machine = test.machine
    out: dict[str, Any] = {
        "t": machine.t_s,
        "phase": str(machine.phase),
        "prompt": machine.prompt,
        "leg": machine.leg,
        "countdown": machine.countdown_left,
        "elapsed": machine.elapsed_s,
        "duration": machine.duration_s,
        "timing": machine.phase in (Phase.HOLDING, Phase.DONE),
        "trials": [_trial(t) for t in machine.trials],
        "fps": test.meter.fps(),
    }
    if judged is None or not judged.step.detected:
        return out
    xy = judged.xy / (w, h)
    com = centre_of_mass(judged.xy[None])[0] / (w, h)
    stance = shown_stance(judged.step, machine)
    out.update(
        xy=[[_num(x), _num(y)] for x, y in xy],
        com=[_num(com[0]), _num(com[1])],
        floor=_num(max(float(np.nanmax(xy[list(lm.FOOT[s]), 1])) for s in lm.SIDES)),
        stance=stance,
        sway=_num(judged.sway),
        sway_rms_pct=_num(100 * judged.sway_rms),
    )
    return out


def _num(v: float) -> float | None:
    return round(float(v), 4) if math.isfinite(v) else None


def _trial(t: Any) -> dict[str, Any]:
    return {k: (_num(v) if isinstance(v, float) else v) for k, v in asdict(t).items()}


def _summary(test: LiveTest) -> dict[str, Any]:
    machine = test.machine
    return {
        "legs": list(machine.legs),
        "duration_s": machine.duration_s,
        "trials": [_trial(t) for t in machine.trials],
        "transitions": [[round(t, 3), str(p)] for t, p in machine.transitions],
    }


def _summary_words(machine: TrialMachine) -> list[str]:
    """The live result in words, as `balance record` prints it."""
    if not machine.trials:
        return [
            "No lift-off was seen: the test never started timing. "
            f"Stand on your {machine.legs[0]} leg and lift your {lm.other(machine.legs[0])} foot clear of the floor. "
            + CAMERA_WORDS
        ]
    return [t.words() for t in machine.trials]


def _browser_stats(data: Any) -> dict[str, float | None]:
    """The frame rate and overlay latency the page measured, as numbers (anything else is left out)."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    keys = ("fps", "latency_ms_median", "latency_ms_p95", "frames_sent", "frames_skipped", "frames_shown")
    out: dict[str, float | None] = {}
    for key in keys:
        value = data.get(key)
        out[key] = float(value) if isinstance(value, int | float) and math.isfinite(value) else None
    return out
