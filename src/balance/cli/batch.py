"""`balance batch INPUTS... --out DIR`: every clip of files, folders or CSV manifests, on a Dask cluster.

Exit status: 0 when every clip was analysed (now or by an earlier run), 9 when at least one failed (the
summary names each with its reason), or the usual code of a problem that stops the whole batch (2: bad
options or manifest, or no scheduler at --scheduler; 7: the output folder or history cannot be written).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from balance.cli.options import add_pose_options
from balance.errors import UsageError
from balance.history.save import check_week

SOME_FAILED = 9


def add_batch_command(subparsers: Any) -> None:
    b = subparsers.add_parser(
        "batch",
        help="analyse many clips (files, folders, CSV manifests) on a Dask cluster",
        description="One task per clip on a local Dask cluster, or on an existing one with --scheduler. "
        "A manifest is a CSV with the header clip,name,week,height_cm,eyes,surface,age,side_clip (all but clip "
        "optional; relative clip paths from its folder; side_clip: a second camera's clip of the same hold).",
    )
    b.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="clip files, folders or manifest.csv")
    b.add_argument("--out", type=Path, required=True, help="results folder: one sub-folder per clip plus the summary")
    b.add_argument("--scheduler", metavar="ADDRESS", help="an existing cluster, e.g. tcp://host:8786 (default: local)")
    b.add_argument("--workers", type=int, help="local cluster: worker processes (default: one per core)")
    b.add_argument("--height-cm", type=float, help="standing height for clips whose manifest row gives none")
    add_pose_options(b, "analyse at most this many frames a second")
    b.add_argument("--no-cache", action="store_true", help="re-run the pose model even if cached")
    b.add_argument("--min-trial-s", type=float, default=3.0, help="shortest one-leg hold scored as a trial, s (3)")
    b.add_argument("--video", action="store_true", help="also write each clip's annotated video (slow)")
    b.add_argument("--name", help="save every result without a manifest name to this person's history")
    b.add_argument("--week", type=int, help="programme week for results without a manifest week")
    b.add_argument("--db", metavar="PATH_OR_URL", help="history database: file, sqlite:///FILE or postgresql://...")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(handler=cmd_batch)


def _bar(enabled: bool) -> Progress:
    return Progress(
        TextColumn("clips"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeRemainingColumn(),
        transient=True,
        disable=not enabled,
        console=Console(stderr=True),
    )


def cmd_batch(args: argparse.Namespace) -> int:
    from balance.batch import inputs, runner, summary
    from balance.pipeline import AnalysisOptions

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers} is not a number of processes", "Give 1 or more", option="workers")
    check_week(args.week, "--week")
    began = time.perf_counter()
    options = AnalysisOptions(
        model=args.model,
        height_cm=args.height_cm,
        max_fps=args.max_fps or None,
        use_cache=not args.no_cache,
        min_trial_s=args.min_trial_s,
    )
    jobs, passed = inputs.expand(args.inputs, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    runner.sweep(args.out)
    todo, done, unreadable = runner.plan(jobs, args.out, options)
    rows = [*runner.skipped_rows(passed), *unreadable, *done]
    already = sum(r.reason.startswith("already analysed") for r in done)
    if already:
        print(f"{already} clip(s) already analysed with this balance version and these options: skipped")
    history = runner.History(args.db, args.name, args.week)
    history.open_if_needed([p.job for p in todo])
    try:
        if todo:
            rows += _run(args, todo, history)
    finally:
        history.close()
    written = summary.write(
        args.out, rows, options={**asdict(options), "video": args.video}, seconds=time.perf_counter() - began
    )
    n = summary.counts(rows)
    print(f"{n['ok']} analysed, {n['skipped']} skipped, {n['failed']} failed. Summary: {written[0]}")
    if not n["failed"]:
        return 0
    for row in rows:
        if row.status == "failed":
            print(f"  failed: {row.clip}: {row.reason} [{row.error}]", file=sys.stderr)
    print(
        f"balance: {n['failed']} of {len(rows)} inputs failed (listed above with their reasons). "
        f"Fix or remove them and run the same command again: finished clips are skipped",
        file=sys.stderr,
    )
    return SOME_FAILED


def _run(args: argparse.Namespace, todo: list[Any], history: Any) -> list[Any]:
    from balance.batch import runner

    show = not args.quiet and sys.stderr.isatty()
    with _bar(show) as bar, runner.connect(args.scheduler, args.workers) as client:
        task = bar.add_task("clips", total=len(todo), failed=0)
        failed = 0

        def progress(result: runner.ClipResult) -> None:
            nonlocal failed
            failed += result.status == "failed"
            bar.update(task, advance=1, failed=failed)

        return runner.run(client, todo, args.out, video=args.video, history=history, progress=progress)
