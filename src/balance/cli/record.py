"""The `balance record` command: a live single-leg stance test from a camera (or a clip played as one).

A thin layer over balance.live.session.record and balance.analyze: argument parsing, the source choice, the
printed result; the analysis is written and saved to the history as `balance analyze` does.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balance.cli.history import add_save_options, reference_lines, save_options, save_words
from balance.errors import VideoError
from balance.live.options import (
    DEFAULT_DURATION_S,
    DEFAULT_LEG,
    LEG_CHOICES,
    LIVE_MODEL,
    MAX_DURATION_S,
    MIN_DURATION_S,
    LiveOptions,
    asked_legs_noted,
)
from balance.pose.models import DEFAULT_MODEL

# The live session (MediaPipe, the stance tracker, SciPy) is imported when `record` runs, not whenever the
# `balance` parser is built: `balance analyze` starts its pose model without it.
if TYPE_CHECKING:
    from balance.live.session import RecordResult
    from balance.video.camera import LiveSource


def add_record_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `record` on the `balance` parser's subparsers; the handler is set as the `func` default."""
    r = subparsers.add_parser("record", help="test balance live from a camera, save the clip and analyse it")
    r.add_argument("--leg", choices=LEG_CHOICES, default=DEFAULT_LEG, help=f"stance leg (default {DEFAULT_LEG})")
    r.add_argument(
        "--duration",
        type=float,
        default=DEFAULT_DURATION_S,
        help=f"seconds per leg timed at most, {MIN_DURATION_S:g}-{MAX_DURATION_S:g} (default {DEFAULT_DURATION_S:g})",
    )
    r.add_argument("--camera", default="0", help="camera index or device (default 0), or a video file to play as one")
    r.add_argument("--no-window", action="store_true", help="no camera window: prompts on the console")
    r.add_argument("--out", type=Path, default=Path("recordings"), help="folder for the clip (default recordings/)")
    r.add_argument("--model-live", default=LIVE_MODEL, help=f"pose model while recording (default {LIVE_MODEL})")
    r.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"pose model for the analysis afterwards (default {DEFAULT_MODEL})"
    )
    r.add_argument("--width", type=int, default=640, help="camera picture width (default 640)")
    r.add_argument("--height", type=int, default=480, help="camera picture height (default 480)")
    r.add_argument("--fps", type=float, default=30.0, help="camera frame rate to ask for (default 30)")
    add_save_options(r)
    r.set_defaults(handler=cmd_record)
    return r


def open_source(spec: str, width: int, height: int, fps: float) -> LiveSource:
    """A digit is a camera index; an existing file plays as a camera; anything else is a device path or URL."""
    from balance.video.camera import CameraSource, FileAsCamera

    if spec.isdigit():
        return CameraSource(int(spec), width, height, fps)
    if Path(spec).is_file():
        return FileAsCamera(spec)
    return CameraSource(spec, width, height, fps)


def cmd_record(args: argparse.Namespace) -> int:
    """Record, print what the live test saw, then analyse the saved clip as `balance analyze` does.

    A failed analysis keeps its error type, so the exit code and the one line on stderr are analyze's.
    """
    from balance.live.session import record
    from balance.pipeline import analyze
    from balance.results.folder import write_results
    from balance.results.text import summary

    test = LiveOptions.parse(args.leg, args.duration)
    saving = save_options(args)
    source = open_source(args.camera, args.width, args.height, args.fps)
    result = record(
        source,
        test.legs,
        test.duration_s,
        args.out,
        name=args.name,
        live_model=args.model_live,
        window=not args.no_window,
        say=lambda line: print(f"> {line}", file=sys.stderr, flush=True),
    )
    print(format_result(result), flush=True)
    if result.clip is None:
        raise VideoError(
            f"nothing was recorded: the camera gave no picture{f' ({source.error})' if source.error else ''}",
            "Check that the camera is connected and not in use by another program",
            option="camera",
        )
    analysis = asked_legs_noted(analyze(result.clip, model=args.model), test.legs)
    written = write_results(analysis, result.clip.with_suffix(""), name=args.name)
    print(
        "\n".join(
            [f"\n{summary(analysis)}", *reference_lines(written.json, args), f"\nResults: {written.files[0].parent}"]
        )
    )
    if saving is not None:
        print(save_words(written.json, saving, args.db))
    return 0


def format_result(result: RecordResult) -> str:
    """What the live test saw and where the clip is, printed before the analysis of the clip starts."""
    live = result.live
    s = live.stats
    lines = []
    if live.stopped_early:
        lines.append("Recording stopped before the test finished; what was recorded is kept.")
    if live.capture_error:
        lines.append(f"Camera: {live.capture_error}")
    for t in live.trials:
        lines.append(f"Live: {t.stance_leg} leg held {t.hold_s:.1f} s from {t.lift_off_s:.1f} s ({t.ended_by})")
    lat = (
        f"{s.latency_ms_median:.0f} ms median, {s.latency_ms_p95:.0f} ms p95"
        if math.isfinite(s.latency_ms_median)
        else "-"
    )
    lines.append(
        f"Live processing: {s.processed_fps:.1f} frames/s ({s.frames_processed} of {s.frames_captured} frames, "
        f"{s.frames_dropped} dropped), latency {lat}"
    )
    if result.clip is None:
        lines.append("Nothing was recorded.")
    else:
        lines.append(f"Clip: {result.clip} (capture times: {result.timestamps}); analysing it now")
    return "\n".join(lines)
