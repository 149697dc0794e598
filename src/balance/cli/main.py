"""The `balance` command: a thin layer of argument parsing and formatting over the library.

Library errors (balance.errors) become one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from balance.cli.batch import add_batch_command
from balance.cli.history import add_commands, add_save_options, reference_lines, save_options, save_words
from balance.cli.options import add_pose_options
from balance.cli.record import add_record_command
from balance.cli.serve import add_serve_command
from balance.config import settings
from balance.errors import BalanceError
from balance.video.writer import DEFAULT_VIDEO_SIZE, MIN_VIDEO_SIZE

# OpenCV's FFmpeg backend prints decoder complaints ("moov atom not found") for damaged files; the
# user gets our one-line explanation instead. Must be set before cv2 opens its first capture.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _video_size(text: str) -> int | None:
    if text == "full":
        return None
    if not text.isdigit() or int(text) < MIN_VIDEO_SIZE:
        raise argparse.ArgumentTypeError(f"{text!r} is not full or a number of pixels from {MIN_VIDEO_SIZE}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="balance", description="Single-leg stance balance from video.")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="find single-leg trials in a clip and measure sway")
    a.add_argument("clip", type=Path, help="video file (mp4, mov, avi, webm, mkv)")
    a.add_argument("--out", type=Path, help="folder for analysis.json and frames.csv (default results/<clip>)")
    a.add_argument("--json", action="store_true", help="print the JSON document instead of the summary")
    a.add_argument("--height-cm", type=float, help="subject's standing height: report sway in cm")
    add_pose_options(a, "analyse at most this many frames a second, 0 for every frame")
    a.add_argument(
        "--workers", type=int, help="parallel pose processes (default: 2 for clips of 6 s or more, on 2 or more cores)"
    )
    a.add_argument("--no-cache", action="store_true", help="re-run the pose model even if cached")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.add_argument("--no-video", action="store_true", help="skip the annotated video (the slowest output)")
    a.add_argument(
        "--video-size",
        type=_video_size,
        default=DEFAULT_VIDEO_SIZE,
        metavar="PIXELS|full",
        help=f"annotated video's shorter side at most this many pixels, or full: the clip's size "
        f"(default {DEFAULT_VIDEO_SIZE})",
    )
    a.add_argument(
        "--side", type=Path, metavar="SIDE_CLIP", help="a second clip of the same hold filmed from the side: both axes"
    )
    a.add_argument(
        "--min-trial-s",
        type=float,
        default=3.0,
        help="shortest one-leg hold scored as a trial, s (default 3; less for short lab recordings)",
    )
    add_save_options(a)
    add_commands(sub)
    add_record_command(sub)
    add_serve_command(sub)
    add_batch_command(sub)
    r = sub.add_parser("report", help="re-render report.html from a saved analysis.json (no pose model)")
    r.add_argument("analysis_json", type=Path, help="results/<clip>/analysis.json")
    r.add_argument("--open", action="store_true", help="open the report in the default browser")
    r.add_argument("--name", help="person's name for the report's header")
    r.set_defaults(handler=cmd_report)
    return parser


def _progress_bar(enabled: bool) -> Progress:
    return Progress(
        TextColumn("pose"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        transient=True,
        disable=not enabled,
        console=Console(stderr=True),
    )


def cmd_analyze(args: argparse.Namespace) -> int:
    from balance.pose import estimate

    if args.side is None:
        # The pose processes load MediaPipe and the model while this process imports the analysis.
        estimate.prestart(
            args.clip, args.model, max_fps=args.max_fps or None, workers=args.workers, use_cache=not args.no_cache
        )
    try:
        return _analyze(args)
    finally:
        estimate.discard_started()


def _analyze(args: argparse.Namespace) -> int:
    from balance.pipeline import AnalysisOptions, analyze, analyze_pair
    from balance.results.document import json_text
    from balance.results.folder import write_results
    from balance.results.text import summary

    # Every option is checked (the library's rules) before the pose model starts.
    options = AnalysisOptions(
        model=args.model,
        height_cm=args.height_cm,
        max_fps=args.max_fps or None,
        workers=args.workers,
        use_cache=not args.no_cache,
        min_trial_s=args.min_trial_s,
    )
    saving = save_options(args)
    show = not args.quiet and sys.stderr.isatty()
    with _progress_bar(show) as bar:
        task = bar.add_task("pose", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done))

        if args.side is not None:
            analysis = analyze_pair(args.clip, args.side, options, progress=progress)
        else:
            analysis = analyze(args.clip, options, progress=progress)
    out = args.out if args.out is not None else Path("results") / args.clip.stem
    written = write_results(analysis, out, video=not args.no_video, video_size=args.video_size, name=args.name)
    if args.json:
        print(json_text(written.json), end="")
    else:
        print(summary(analysis))
        for line in reference_lines(written.json, args):
            print(line)
        print(f"\nResults: {', '.join(str(p) for p in written.files)}")
    if saving is not None:
        message = save_words(written.json, saving, args.db)
        # --json keeps stdout a pure JSON document.
        print(message, file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from balance.results.document import load_document
    from balance.results.folder import render_report

    path: Path = args.analysis_json
    doc = load_document(path)
    out = render_report(doc, path.parent / "report.html", plots_dir=path.parent, name=args.name)
    print(f"Report: {out}")
    if args.open:
        webbrowser.open(out.resolve().as_uri())
    return 0


def _silence_native_logs() -> None:
    """Send C-level stderr (MediaPipe/TFLite/glog banners, which ignore Python logging) to /dev/null.

    Python's own sys.stderr moves to a duplicate of the real stream first, so our messages, the progress
    bar and any genuine traceback still reach the user. BALANCE_DEBUG=1 keeps the native logs.
    """
    # In process (a test's captured streams, a host program) there is no terminal to keep clean, and Python's
    # stderr is no longer the process's: then, and after the first call, there is nothing to do.
    err = sys.stderr
    if settings().debug or err is not sys.__stderr__ or err is None:
        return
    err.flush()
    real = os.dup(2)
    sys.stderr = os.fdopen(real, "w", buffering=1, errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


class _StderrLines(logging.Handler):
    """Each library warning as one `balance: ...` line on whatever sys.stderr is at the time."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"balance: {record.getMessage()}", file=sys.stderr)


def _show_warnings() -> None:
    """The library's warnings (a pose cache that cannot be used, fewer pose processes than asked) on stderr."""
    logger = logging.getLogger("balance")
    if not any(isinstance(h, _StderrLines) for h in logger.handlers):
        logger.addHandler(_StderrLines(logging.WARNING))
    logger.setLevel(logging.WARNING)


def error_line(exc: BalanceError) -> str:
    """The one line the CLI prints for a library error: what is wrong, what to do, and the option to change."""
    line = str(exc)
    return f"{line} (--{exc.option.replace('_', '-')})" if exc.option else line


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _silence_native_logs()
    _show_warnings()
    try:
        return args.handler(args) if hasattr(args, "handler") else cmd_analyze(args)
    except BalanceError as exc:
        print(f"balance: {error_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (`balance analyze clip | head`): the results are written; stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("balance: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
