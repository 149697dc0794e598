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
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from balance.errors import BalanceError, UsageError, VideoError
from balance.live.machine import Phase, TrialMachine
from balance.live.session import LIVE_MODEL, Judged, LiveTest
from balance.live.window import METER_RANGE, leg_landmarks, shown_stance
from balance.measure.body import centre_of_mass
from balance.pose import landmarks as lm
from balance.pose.estimate import resolve_model
from balance.pose.landmarker import Landmarker
from balance.pose.skeleton import ALL_BONES
from balance.web import services
from balance.web.jobs import Job, JobManager
from balance.web.security import session_of
from balance.web.settings import WebSettings

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
# Seconds per leg, as `balance record --duration` allows.
MIN_DURATION_S, MAX_DURATION_S = 3.0, 600.0
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


def add_routes(
    app: FastAPI,
    settings: WebSettings,
    manager: JobManager,
    render: Callable[..., Response],
    problem: Callable[..., Response],
    check_fields: Callable[[Any], dict[str, Any]],
) -> None:
    live_now = {"count": 0}
    orphans: set[asyncio.Task[None]] = set()  # held here: the event loop keeps only weak references to tasks

    def recording(request_session: str, upload_id: str) -> tuple[Path, Recording]:
        folder = manager.folder(upload_id) if upload_id.isalnum() else None
        rec = Recording.load(folder) if folder is not None else None
        # Another session's recording is as good as absent: 404, never a hint that it exists.
        if folder is None or rec is None or rec.client != request_session or (folder / "job.json").exists():
            raise HTTPException(404)
        return folder, rec

    @app.get("/record")
    async def record_page(request: Request, name: str = "") -> Response:
        known = [p.name for p in await run_in_threadpool(services.people, settings.db)]
        return render(request, "record.html", known=known, name=name, min_s=MIN_DURATION_S, max_s=MAX_DURATION_S)

    @app.post("/record/uploads")
    async def start(request: Request) -> Response:
        """A new recording: the person and the test's settings are checked before the camera starts."""
        client = session_of(request.scope)
        form = await request.form(max_files=0, max_fields=20, max_part_size=64 * 1024)
        try:
            fields = check_fields(form)
            if not fields["name"]:
                raise UsageError("a recorded test needs a name", "Give the person's name: the test is saved to it")
            legs = _legs(str(form.get("leg") or ""))
            duration = _duration(str(form.get("duration") or ""))
            if manager.active_for(client) >= settings.max_jobs_per_client:
                raise UsageError(
                    f"you already have {manager.active_for(client)} clips waiting or being analysed",
                    "Wait for them to finish before recording another test",
                )
        except BalanceError as exc:
            return problem(request, exc.http_status, str(exc))
        upload_id = manager.new_id()
        folder = manager.folder(upload_id)
        rec = Recording(client, legs, duration, fields, time.time())
        (folder / UPLOAD).write_text(json.dumps(asdict(rec)))
        (folder / PARTIAL).touch()
        return JSONResponse({"id": upload_id, "size": 0, "max_chunk": MAX_CHUNK}, status_code=201)

    @app.get("/record/uploads/{upload_id}")
    async def upload_state(request: Request, upload_id: str) -> Response:
        folder, _ = recording(session_of(request.scope), upload_id)
        return JSONResponse({"id": upload_id, "size": (folder / PARTIAL).stat().st_size})

    @app.put("/record/uploads/{upload_id}")
    async def chunk(request: Request, upload_id: str, offset: int) -> Response:
        """Append one chunk at `offset`; a chunk the server already holds is acknowledged, not written twice."""
        folder, _ = recording(session_of(request.scope), upload_id)
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

    async def queue(upload_id: str, folder: Path, rec: Recording, stats: dict[str, Any]) -> Job:
        """Keep the clip under its final name and queue its full analysis; VideoError when it is not a video."""
        clip = folder / f"recording{_container(folder / PARTIAL)}"
        os.replace(folder / PARTIAL, clip)  # the raw clip is kept from here on, whatever its analysis says
        live = folder / LIVE
        judged = json.loads(live.read_text()) if live.is_file() else {}
        live.write_text(json.dumps({**judged, "browser": stats}))
        try:
            from balance.video.reader import probe

            await run_in_threadpool(probe, clip)
        except VideoError as exc:
            os.replace(clip, folder / PARTIAL)  # not a clip the library can read: the browser may send it again
            raise VideoError(exc.what.replace(str(clip), "the recording"), exc.todo) from exc
        analysed = await run_in_threadpool(_with_timestamps, clip)
        when = datetime.fromtimestamp(rec.started).strftime("%Y-%m-%d %H:%M")
        return manager.submit(
            Job(id=upload_id, client=rec.client, filename=f"recording {when}", clip=analysed.name, **rec.fields)
        )

    async def adopt(upload_id: str, folder: Path, rec: Recording) -> None:
        """The page went away (tab closed, connection lost) without finishing: once no chunk has come for
        ORPHAN_S, analyse what was uploaded, so a closed tab loses nothing the server holds."""
        while not (folder / "job.json").exists() and (folder / PARTIAL).is_file():
            idle = time.time() - (folder / PARTIAL).stat().st_mtime
            if idle >= ORPHAN_S:
                if (folder / PARTIAL).stat().st_size:
                    with contextlib.suppress(VideoError):  # nothing readable arrived: the folder stays as it is
                        await queue(upload_id, folder, rec, {})
                return
            await asyncio.sleep(min(ORPHAN_S - idle, ORPHAN_S) + 0.05)

    @app.post("/record/uploads/{upload_id}/finish")
    async def finish(request: Request, upload_id: str) -> Response:
        """The browser has sent the whole clip: keep it, and queue its full analysis as a job."""
        folder, rec = recording(session_of(request.scope), upload_id)
        try:
            stats = _browser_stats(await request.json())
        except ValueError:
            return problem(request, 400, "the recording's statistics are not JSON. Reload the page and record again")
        try:
            job = await queue(upload_id, folder, rec, stats)
        except VideoError as exc:
            return problem(request, exc.http_status, str(exc))
        return JSONResponse({"job": job.id, "url": f"/jobs/{job.id}"}, status_code=202)

    @app.websocket("/record/live")
    async def live(ws: WebSocket) -> None:
        upload_id = ws.query_params.get("upload", "")
        try:
            folder, rec = recording(session_of(ws.scope), upload_id)
        except HTTPException:
            await ws.close(code=1008, reason="no such recording for this session")
            return
        if live_now["count"] >= MAX_LIVE:
            await ws.close(code=1013, reason=f"{MAX_LIVE} live tests are running; try again when one has finished")
            return
        live_now["count"] += 1
        try:
            await ws.accept()
            await _run_live(ws, folder, rec)
        finally:
            live_now["count"] -= 1
        if folder.is_dir() and not (folder / "job.json").exists():
            orphans.add(asyncio.create_task(adopt(upload_id, folder, rec)))
            orphans.difference_update([t for t in orphans if t.done()])


async def _run_live(ws: WebSocket, folder: Path, rec: Recording) -> None:
    """Judge the newest frame, answer with the state; the browser's `stop` ends the test where it is."""
    pose = await run_in_threadpool(Landmarker, resolve_model(LIVE_MODEL))
    machine = TrialMachine(rec.legs, rec.duration_s)
    test = LiveTest(pose, machine)
    await ws.send_json(
        {"hello": True, "bones": ALL_BONES, "legs": {s: leg_landmarks(s) for s in lm.SIDES}, "meter": METER_RANGE}
    )
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
        (folder / LIVE).write_text(json.dumps({**_summary(test), "server": rate}))
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


def _with_timestamps(clip: Path) -> Path:
    """The clip to analyse: a browser's WebM has no duration or frame rate in its header (MediaRecorder writes
    it as a stream), so its H.264 is copied, not re-encoded, into an MP4 beside it, which has both; the raw
    WebM stays as recorded. A WebM that MP4 cannot hold (VP8) is analysed as it is."""
    import imageio_ffmpeg

    if clip.suffix != ".webm":
        return clip
    out = clip.with_suffix(".mp4")
    tmp = clip.with_name("remux.partial.mp4")  # the extension must stay: it picks the container
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-map", "0:v:0", "-c", "copy"]
    done = subprocess.run([*cmd, "-movflags", "+faststart", str(tmp)], capture_output=True, timeout=600)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        return clip
    os.replace(tmp, out)
    return out


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


def _legs(text: str) -> tuple[str, ...]:
    if text == "both":
        return ("left", "right")
    if text in lm.SIDES:
        return (text,)
    raise UsageError(f"leg {text!r} is not left, right or both", "Choose the stance leg", option="leg")


def _duration(text: str) -> float:
    try:
        value = float(text or "30")
    except ValueError:
        raise UsageError(f"duration {text!r} is not a number", "Give the seconds per leg", option="duration") from None
    if not MIN_DURATION_S <= value <= MAX_DURATION_S:
        raise UsageError(
            f"{value:g} s is not a usable trial length ({MIN_DURATION_S:g}-{MAX_DURATION_S:g} s)",
            "Give 30 to 60 seconds per leg",
            option="duration",
        )
    return value
