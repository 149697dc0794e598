"""The `balance record` command: a live single-leg stance test from a camera (or a clip played as one).

A thin layer over balance.live.session.record and balance.analyze: argument parsing, the source choice, the
printed result; the analysis is written and saved to the history as `balance analyze` does.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balance.cli.history import add_save_options, save_from_args
from balance.errors import VideoError

# The live session (MediaPipe, the stance tracker, SciPy) is imported when `record` runs, not whenever the
# `balance` parser is built: `balance analyze` starts its pose model without it.
if TYPE_CHECKING:
    from balance.live.session import RecordResult
    from balance.pipeline import Analysis
    from balance.video.camera import LiveSource


def _duration(text: str) -> float:
    value = float(text)
    if not 3 <= value <= 600:
        raise argparse.ArgumentTypeError(f"{text} s is not a usable trial length (3-600 s)")
    return value


def add_record_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `record` on the `balance` parser's subparsers; the handler is set as the `func` default."""
    r = subparsers.add_parser("record", help="test balance live from a camera, save the clip and analyse it")
    r.add_argument("--leg", choices=("left", "right", "both"), default="both", help="stance leg (default both)")
    r.add_argument("--duration", type=_duration, default=30.0, help="seconds per leg before time is up (default 30)")
    r.add_argument("--camera", default="0", help="camera index or device (default 0), or a video file to play as one")
    r.add_argument("--no-window", action="store_true", help="no camera window: prompts on the console")
    r.add_argument("--out", type=Path, default=Path("recordings"), help="folder for the clip (default recordings/)")
    r.add_argument("--model-live", help="pose model while recording (default lite)")
    r.add_argument("--model", default="full", help="pose model for the analysis afterwards (default full)")
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
    from balance.live.session import LIVE_MODEL, record
    from balance.pipeline import analyze
    from balance.results.folder import write_results
    from balance.results.text import summary

    legs = ("left", "right") if args.leg == "both" else (args.leg,)
    source = open_source(args.camera, args.width, args.height, args.fps)
    result = record(
        source,
        legs,
        args.duration,
        args.out,
        name=args.name,
        live_model=args.model_live or LIVE_MODEL,
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
    analysis = asked_legs_noted(analyze(result.clip, model=args.model), legs)
    written = write_results(analysis, result.clip.with_suffix(""), name=args.name)
    print(f"\n{summary(analysis)}\n\nResults: {written.files[0].parent}")
    if args.name:
        print(save_from_args(written.json, args))
    return 0


def asked_legs_noted(analysis: Analysis, legs: tuple[str, ...]) -> Analysis:
    """The analysis with a note of the legs the test asked for, and a warning where the clip shows other ones.

    The person was told which leg to stand on: the analysis finds the stance leg from the body alone, so a
    disagreement means the person stood on the other leg, or the sides were misread (README, "sides").
    """
    found = tuple(dict.fromkeys(m.trial.stance_leg for m in analysis.trials))
    note = f"recorded live: the test asked for the {' and '.join(legs)} leg{'s' if len(legs) > 1 else ''}"
    if set(found) != set(legs):
        note += f", but the clip shows a stance on the {' and '.join(found)} leg: check which leg stood"
    return replace(analysis, notes=(*analysis.notes, note))


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
