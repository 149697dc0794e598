"""Throughput of `balance batch` on a Dask LocalCluster: clips per minute and real-time factor with 1 and 2
worker processes (scaling efficiency), and the scheduler's overhead per task.

    .venv/bin/python benchmarks/batch.py                        # 4 synthetic 30 s clips, full model
    .venv/bin/python benchmarks/batch.py --clips 2 --model lite --workers 1 2 4 [--json out.json]

Progress and the table go to stdout; the workers' native MediaPipe logs to stderr (`2>/dev/null` hides them).
The pose cache is off (every run runs the pose model, as a batch of new clips does); each run writes into a
fresh temporary folder through the same code as `balance batch` (balance.batch.runner). The cluster's
start-up is timed apart: a service keeps its cluster running.
Real-time factor = seconds of video analysed per second of wall time (above 1: faster than real time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import balance  # noqa: E402
from balance.batch import inputs, runner  # noqa: E402
from balance.pipeline import AnalysisOptions  # noqa: E402
from balance.video.reader import probe  # noqa: E402

SYNTHETIC = Path(__file__).resolve().parents[1] / "sample_videos" / "synthetic"
CLIPS = ("sway_left_clean.mp4", "sway_right_clean.mp4", "sway_left_noisy.mp4", "sway_left_large.mp4")
NOOP_TASKS = 500


def _noop(i: int) -> int:
    return i


def _cpu_s() -> float:
    """User + system CPU seconds of this worker process and its children (run on each worker)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def scheduler_overhead(client: Any, n: int = NOOP_TASKS) -> float:
    """Seconds per task for n empty tasks submitted and gathered at once (round trips, bookkeeping)."""
    client.gather(client.map(_noop, range(50), pure=False))  # warm: functions shipped, connections open
    began = time.perf_counter()
    client.gather(client.map(_noop, range(n), pure=False))
    return (time.perf_counter() - began) / n


def _peak_rss_mb() -> float:
    """Peak resident memory of this worker process, MB (Linux reports ru_maxrss in kB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(clips: list[Path], workers: int, options: AnalysisOptions) -> dict[str, Any]:
    video_s = sum(probe(c).duration_s for c in clips)
    with tempfile.TemporaryDirectory(prefix="balance-bench-") as tmp:
        out = Path(tmp)
        jobs, _ = inputs.expand(clips, out)
        todo, done, unreadable = runner.plan(jobs, out, options)
        assert len(todo) == len(clips) and not done and not unreadable
        began = time.perf_counter()
        with runner.connect(None, workers) as client:
            client.wait_for_workers(workers)
            cpu_before = sum(client.run(_cpu_s).values())
            started = time.perf_counter()
            results = runner.run(client, todo, out, video=False, history=runner.History(None, None, None))
            finished = time.perf_counter()
            cpu = sum(client.run(_cpu_s).values()) - cpu_before
            peak_mb = max(client.run(_peak_rss_mb).values())
            overhead = scheduler_overhead(client)
    failed = [r for r in results if r.status != "ok"]
    if failed:
        raise SystemExit(f"clips failed: {[(r.clip, r.reason) for r in failed]}")
    wall = finished - started
    per_clip = [r.seconds for r in results if r.seconds is not None]
    return {
        "workers": workers,
        "clips": len(clips),
        "video_s": round(video_s, 1),
        "cluster_start_s": round(started - began, 1),
        "wall_s": round(wall, 1),
        "clips_per_min": round(len(clips) / wall * 60, 2),
        "real_time_factor": round(video_s / wall, 3),
        "worker_s_per_clip_median": round(statistics.median(per_clip), 1),
        "worker_s_per_video_s": round(sum(per_clip) / video_s, 3),
        "worker_cpu_s_per_video_s": round(cpu / video_s, 3),
        "load_average_1min_after": round(os.getloadavg()[0], 1),
        "worker_peak_rss_mb": round(peak_mb),
        "scheduler_overhead_ms_per_task": round(overhead * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=len(CLIPS), help=f"how many of the {len(CLIPS)} clips")
    parser.add_argument("--model", default="full")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    clips = [SYNTHETIC / c for c in CLIPS[: args.clips]]
    options = AnalysisOptions(model=args.model, use_cache=False)
    print(
        f"balance {balance.__version__}, {date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, model {args.model}, {len(clips)} clips",
        flush=True,
    )
    rows = []
    for n in args.workers:
        row = one_run(clips, n, options)
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]
    print(
        "| workers | clips/min | real-time factor | scaling efficiency | worker wall s per video s | "
        "worker CPU s per video s | scheduler overhead per task | cluster start | load average after |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        efficiency = row["clips_per_min"] / (base["clips_per_min"] * row["workers"] / base["workers"])
        print(
            f"| {row['workers']} | {row['clips_per_min']:.2f} | {row['real_time_factor']:.2f} | "
            f"{100 * efficiency:.0f} % | {row['worker_s_per_video_s']:.2f} | {row['worker_cpu_s_per_video_s']:.2f} | "
            f"{row['scheduler_overhead_ms_per_task']:.1f} ms | {row['cluster_start_s']:.1f} s | "
            f"{row['load_average_1min_after']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
