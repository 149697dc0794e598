"""What a user waits for: the default `balance analyze` (annotated video and report included), `--no-video`, and the
peer Sports2D 0.3.4 on the same clips, timed in one run, with the ratios and the per-frame budget.

    .venv/bin/python benchmarks/speed.py                    # 720p and 1080p shared clips, median of 3 runs
    .venv/bin/python benchmarks/speed.py --repeat 5
    .venv/bin/python benchmarks/speed.py --no-peer          # without Sports2D (its first run builds its venv)
    .venv/bin/python benchmarks/speed.py --memory 10        # also: peak memory on a 10-minute 1080p clip
    .venv/bin/python benchmarks/speed.py --memory 10 --only-memory   # only that (memory does not depend on load)
    .venv/bin/python benchmarks/speed.py --markdown speed.md        # also write the table for benchmarks/README.md
    PYTHONPATH=patched/src .venv/bin/python benchmarks/speed.py --label "lever X"     # a lever, from patched code

Every balance run is a fresh `python -m balance.cli.main analyze CLIP --no-cache --quiet` process, timed by the
wall clock, with its CPU time (user + system of the whole process tree) and peak resident memory of its largest
process from /usr/bin/time, the peak memory of the whole tree (the sum of its processes' proportional set sizes,
sampled every 0.2 s) and the load average when it started. Each run's trials and metrics are
checked against a reference analysis (one pose process, no video) of the same clip: same stance leg and
lift-off / touch-down times to 0.1 s, score within its MDC, centre-of-mass velocity and RMS within 5 %.
The per-frame budget times each step on its own, single process: decode, colour conversion, the pose model,
the people census, drawing the overlay and encoding the video; the pose model's time over the cores is the
physical limit of the pose stage on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed_pose import pose_loop  # noqa: E402

from balance.pipeline import analyze  # noqa: E402
from balance.pose.estimate import DEFAULT_MAX_FPS  # noqa: E402
from balance.results import document  # noqa: E402
from balance.video.reader import VideoReader, probe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
PEER = ROOT.parent / "shared" / "peers" / "sports2d" / "peer-sports2d.sh"
CLIPS = {
    "720p": MEDIA / "positive" / "sls_studio_woman_tree_front.mp4",
    "1080p": MEDIA / "positive" / "sls_studio_woman_lateral_leg_swing_front.mp4",
}
VARIANTS = {"default": [], "--no-video": ["--no-video"]}
METRIC_TOLERANCE = 0.05
PRESETS = ("ultrafast", "superfast", "veryfast")  # x264 presets compared for the annotated video
BUDGET_S = 8.0  # seconds of each clip the per-frame budget is timed on
ENCODE_FRAMES = 90  # annotated frames the encoders are timed on
SCORE_MDC = 2.5  # assess/score.py SCORE_MDC: the score's minimal detectable change


@dataclass
class Runs:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    tree_mib: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)

    def add(self, timing: Timing) -> None:
        self.wall.append(timing.wall)
        self.cpu.append(timing.cpu)
        self.rss_mib.append(timing.rss_mib)
        self.tree_mib.append(timing.tree_mib)
        self.load.append(timing.load)


@dataclass(frozen=True)
class Timing:
    wall: float  # s
    cpu: float  # user + system s of the process tree
    rss_mib: float  # peak resident memory of its largest process
    tree_mib: float  # peak of the sum of the tree's proportional set sizes (shared pages split between sharers)
    load: float  # 1-minute load average when the run started


def _tree(pid: int) -> list[int]:
    """pid and every process below it (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
    except (OSError, ValueError):
        return 0


class TreeMemory:
    """The peak, over the run, of the summed proportional set size of a process and all its descendants: what the
    run takes from the machine's memory, pose workers and ffmpeg included, shared libraries counted once."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(p) for p in _tree(self.pid)))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[Timing, subprocess.CompletedProcess[str]]:
    """The run's wall time, CPU time of its process tree, peak memory (largest process and whole tree), the load."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%U %S %M", "-o", out.name, *cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        memory = TreeMemory(proc.pid)
        stdout, stderr = proc.communicate()
        wall = time.perf_counter() - t0
        tree = memory.stop()
        user, system, rss_kb = out.read().split()[-3:]
    run = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return Timing(wall, float(user) + float(system), float(rss_kb) / 1024, tree, load), run


def key_numbers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for t in doc["trials"]:
        com = t["metrics"]["observed"]["centre_of_mass"]
        out.append(
            {
                "leg": t["stance_leg"],
                "lift_off": round(t["lift_off_s"], 1),
                "touch_down": None if t["touch_down_s"] is None else round(t["touch_down_s"], 1),
                "score": t["score"]["value"],
                "velocity": com["mean_velocity"],
                "rms": com["rms_resultant"],
            }
        )
    return out


def verdict(ref: list[dict[str, Any]], got: list[dict[str, Any]]) -> str:
    """'same' or what differs: trials by leg and times (0.1 s), score (MDC), centre-of-mass numbers (5 %)."""
    if [(t["leg"], t["lift_off"], t["touch_down"]) for t in ref] != [
        (t["leg"], t["lift_off"], t["touch_down"]) for t in got
    ]:
        return "DIFFERENT trials"
    worst = 0.0
    for a, b in zip(ref, got, strict=True):
        if abs(a["score"] - b["score"]) > SCORE_MDC:
            return f"DIFFERENT score {a['score']} -> {b['score']}"
        for k in ("velocity", "rms"):
            worst = max(worst, abs(b[k] - a[k]) / abs(a[k]) if a[k] else 0.0)
    return "same" if worst <= METRIC_TOLERANCE else f"DIFFERENT metrics ({100 * worst:.1f} %)"


def run_balance(clip: Path, extra: list[str], env: dict[str, str]) -> tuple[Timing, list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory(prefix="balance-speed-") as out:
        cmd = [sys.executable, "-m", "balance.cli.main", "analyze", str(clip), "--no-cache", "--quiet", "--out", out]
        timing, run = timed([*cmd, *extra], env)
        if run.returncode != 0:
            raise SystemExit(f"balance analyze failed ({run.returncode}): {run.stderr.strip()}")
        return timing, key_numbers(json.loads((Path(out) / "analysis.json").read_text()))


def run_peer(clip: Path) -> Timing:
    timing, run = timed(["bash", str(PEER), str(clip)])
    if run.returncode != 0:
        raise SystemExit(f"peer failed: {run.stderr.strip()[-500:]}")
    wall_s = float(re.search(r"wall_s=([\d.]+)", run.stdout).group(1))  # type: ignore[union-attr]
    return replace(timing, wall=wall_s)


def reference(clip: Path) -> tuple[Any, list[dict[str, Any]]]:
    """The reference analysis and its key numbers: the pose stored in the pose cache (BALANCE_CACHE_DIR) by an
    earlier run of the project, else a run in one pose process, which is then stored."""
    analysis = analyze(clip, workers=1)
    return analysis, key_numbers(document.to_json(analysis))


def budget(clip: Path, analysis: Any) -> dict[str, float]:
    """Milliseconds of wall time per frame for each step, single process, each timed on its own, on the first
    BUDGET_S seconds of the clip (the steps cost the same per frame all through a clip)."""
    import imageio_ffmpeg

    from balance.results.video import Overlay, flags_from_doc, video_scale
    from balance.video.writer import DEFAULT_VIDEO_SIZE, open_writer

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / f"head{clip.suffix}"
        cut = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-t", str(BUDGET_S)]
        subprocess.run([*cut, "-c", "copy", "-an", str(head)], check=True)
        loop = pose_loop(head, ("full",), DEFAULT_MAX_FPS)
        n = loop.frames
        out["decode"] = loop.steps["decode"][0] / n * 1000
        out["colour conversion"] = loop.steps["rgb cv"][0] / n * 1000
        out["pose model (full)"] = (loop.steps["mp.Image"][0] + loop.steps["detect full"][0]) / n * 1000
        out["people census"] = loop.steps["census"][0] / n * 1000
        # The annotated video as the default run makes it: scaled to DEFAULT_VIDEO_SIZE, then drawn on.
        scale = video_scale(analysis.clip.width, analysis.clip.height, DEFAULT_VIDEO_SIZE)
        overlay = Overlay(analysis, flags_from_doc(document.build_document(analysis)), scale=scale)
        size = (overlay.scene.canvas.w, overlay.scene.canvas.h)
        drawn: list[Any] = []
        draw_s, scale_s, count = 0.0, 0.0, 0
        with VideoReader(head, max_fps=None) as reader:
            t0 = time.perf_counter()
            for _ in reader:
                count += 1
            decode_s = time.perf_counter() - t0
            for frame in reader:
                t0 = time.perf_counter()
                image = cv2.resize(frame.image, size, interpolation=cv2.INTER_LINEAR) if scale < 1 else frame.image
                t1 = time.perf_counter()
                image = overlay.draw(image, frame.t_s)
                scale_s += t1 - t0
                draw_s += time.perf_counter() - t1
                if len(drawn) < ENCODE_FRAMES:  # kept for the encoders (a 1080p frame is 6 MB)
                    drawn.append(image)
        h, w = drawn[0].shape[:2]
        writer, _, _ = open_writer(Path(tmp) / "annotated.mp4", w, h, analysis.clip.fps_nominal or 30.0)
        t0 = time.perf_counter()
        for image in drawn:
            writer.write(image)
        writer.close()
        encode_s = time.perf_counter() - t0
        out["video: decode every frame again"] = decode_s / count * 1000
        out[f"video: scale to {size[0]}x{size[1]}"] = scale_s / count * 1000
        out["video: draw the overlay"] = draw_s / count * 1000
        out["video: encode (wall, ffmpeg beside)"] = encode_s / len(drawn) * 1000
        for preset in PRESETS:
            ms, kib = encode_preset(drawn, preset, analysis.clip.fps_nominal or 30.0)
            out[f"  x264 {preset}: CPU ms, {kib:.0f} KiB a frame"] = ms
    out["pose frames"] = n
    out["video frames"] = count
    return out


def encode_preset(frames: list[Any], preset: str, fps: float) -> tuple[float, float]:
    """(ms of ffmpeg CPU per frame, KiB per frame) for x264 at `preset`, CRF 23, on the sampled frames."""
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{preset}.mp4"
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        gen = imageio_ffmpeg.write_frames(
            str(path), (w, h), pix_fmt_in="bgr24", fps=fps, codec="libx264", quality=None, macro_block_size=1,
            output_params=["-preset", preset, "-crf", "23"],
        )  # fmt: skip
        gen.send(None)
        for image in frames:
            gen.send(image.tobytes())
        gen.close()
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = kids.ru_utime + kids.ru_stime - kids0.ru_utime - kids0.ru_stime
        return cpu / len(frames) * 1000, path.stat().st_size / len(frames) / 1024


def long_clip_memory(minutes: float, tmp: Path) -> tuple[float, Timing]:
    """The clip's length (s) and the default run (annotated video included) on the 1080p clip joined to itself
    for `minutes` (stream copy, in `tmp`)."""
    import imageio_ffmpeg

    src = CLIPS["1080p"]
    copies = max(1, round(minutes * 60 / probe(src).duration_s))
    listing = tmp / "list.txt"
    listing.write_text("".join(f"file '{src}'\n" for _ in range(copies)))
    long = tmp / "long.mp4"
    ffmpeg = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing)]
    subprocess.run([*ffmpeg, "-c", "copy", str(long)], check=True)
    timing, _ = run_balance(long, [], {})
    return probe(long).duration_s, timing


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


ROW_NAMES = {
    "default": "`balance analyze` (default: video, report, plots)",
    "--no-video": "`--no-video`",
    "lever": "lever",
    "Sports2D": "Sports2D 0.3.4",
}


def _rows(rows: dict[tuple[str, str], Runs]) -> list[tuple[str, float, str, Runs, float]]:
    """(clip label, clip s, run name, its runs, the peer's median wall s) in table order."""
    out = []
    for label, clip in CLIPS.items():
        duration = probe(clip).duration_s
        peer = med(rows[(label, "Sports2D")].wall) if (label, "Sports2D") in rows else float("nan")
        out += [(label, duration, n, rows[(label, n)], peer) for n in ROW_NAMES if (label, n) in rows]
    return out


def print_table(rows: dict[tuple[str, str], Runs], done: int) -> None:
    print(f"\nafter {done} run(s) of each row; load average {os.getloadavg()[0]:.2f}", flush=True)
    print(
        f"{'clip':<6} {'run':<11} {'wall s':>7} {'min-max':>11} {'x real':>6} {'vs peer':>7} {'cpu s':>6} "
        f"{'peak MiB':>8} {'tree MiB':>8} {'load':>5}  results vs reference"
    )
    for label, duration, name, row, peer in _rows(rows):
        wall = med(row.wall)
        same = ", ".join(sorted(set(row.verdicts))) or "-"
        print(
            f"{label:<6} {name:<11} {wall:7.1f} {min(row.wall):5.1f}-{max(row.wall):<5.1f} "
            f"{duration / wall:6.2f} {peer / wall:7.2f} {med(row.cpu):6.1f} {med(row.rss_mib):8.0f} "
            f"{med(row.tree_mib):8.0f} {med(row.load):5.1f}  {same}"
        )
    print(
        "x real = clip duration / wall; vs peer = Sports2D's wall / this row's (above 1: faster than the peer); "
        "peak MiB: largest process; tree MiB: all its processes together (PSS); load: 1-minute load average at "
        "the start of the runs (median)"
    )


def markdown_table(rows: dict[tuple[str, str], Runs]) -> str:
    """The table as benchmarks/README.md gives it."""
    lines = [
        "| clip | run | wall s, median (min-max) | x real time | vs Sports2D (>1: faster) | CPU s | peak MiB, "
        "largest process | peak MiB, whole tree | load average at start | results vs reference |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    shown = ""
    for label, duration, name, row, peer in _rows(rows):
        wall = med(row.wall)
        clip = f"{label}, {duration:.1f} s" if label != shown else ""
        shown = label
        same = ", ".join(sorted(set(row.verdicts))) or "-"
        lines.append(
            f"| {clip} | {ROW_NAMES[name]} | {wall:.1f} ({min(row.wall):.1f}-{max(row.wall):.1f}) | "
            f"{duration / wall:.2f} | {peer / wall:.2f} | {med(row.cpu):.1f} | {med(row.rss_mib):.0f} | "
            f"{med(row.tree_mib):.0f} | {med(row.load):.1f} | {same} |"
        )
    return "\n".join(lines) + "\n"


def print_budgets(budgets: dict[str, dict[str, float]], cores: int) -> None:
    for label, b in budgets.items():
        limit = b["pose model (full)"] / cores
        print(
            f"\nper-frame budget, {label}, first {BUDGET_S:g} s ({int(b['pose frames'])} analysed frames, "
            f"{int(b['video frames'])} video frames), ms of wall time per frame, one process:"
        )
        for k, v in b.items():
            if "frames" not in k:
                print(f"  {k:<30} {v:6.1f}")
        fps = probe(CLIPS[label]).fps_nominal
        analysed = min(fps, DEFAULT_MAX_FPS)
        print(
            f"  physical limit of the pose stage: pose model / {cores} cores = {limit:.1f} ms a frame, "
            f"{analysed * limit / 1000:.2f} s of pose per clip second = {1000 / (analysed * limit):.2f}x real time"
        )


def memory_report(minutes: float) -> None:
    with tempfile.TemporaryDirectory(prefix="balance-long-") as tmp:
        clip_s, t = long_clip_memory(minutes, Path(tmp))
    print(
        f"\n{clip_s / 60:.1f}-minute 1080p clip, default run (video, report, plots): {t.wall:.0f} s "
        f"({clip_s / t.wall:.2f}x real time), {t.cpu:.0f} CPU s, load average {t.load:.1f} at its start; peak memory: "
        f"largest process {t.rss_mib:.0f} MiB, whole process tree {t.tree_mib:.0f} MiB (PSS)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per row, median printed (default 3)")
    parser.add_argument("--no-peer", action="store_true", help="skip Sports2D")
    parser.add_argument("--no-budget", action="store_true", help="skip the per-frame budget")
    parser.add_argument("--memory", type=float, metavar="MIN", help="also time a MIN-minute 1080p clip, peak memory")
    parser.add_argument("--only-memory", action="store_true", help="with --memory: only the long clip")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the table for benchmarks/README.md")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the balance runs (a lever)")
    parser.add_argument("--label", default="", help="name of the lever being timed (printed)")
    parser.add_argument("--lever", type=Path, help="a patched src/ folder: adds its default run as a row, interleaved")
    parser.add_argument("--lever-clips", nargs="+", default=list(CLIPS), help="clips the lever row runs on")
    args = parser.parse_args(argv)
    env = dict(e.split("=", 1) for e in args.env)
    missing = [p for p in CLIPS.values() if not p.is_file()]
    if missing:
        print(f"The shared clips are not in {MEDIA} (they are not in the repository): nothing to time.")
        return 0
    cores = os.cpu_count() or 1
    print(
        f"balance speed vs the peer, {date.today().isoformat()}; {cores} cores ({platform.machine()}); "
        f"load average {os.getloadavg()[0]:.2f} at start; median of {args.repeat}"
    )
    if args.memory and args.only_memory:
        memory_report(args.memory)
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
        return 0
    if env or args.label:
        print(f"lever: {args.label} {' '.join(args.env)}")
    rows: dict[tuple[str, str], Runs] = {}
    refs: dict[str, list[dict[str, Any]]] = {}
    budgets: dict[str, dict[str, float]] = {}
    for label, clip in CLIPS.items():
        analysis, refs[label] = reference(clip)
        if not args.no_budget:
            budgets[label] = budget(clip, analysis)
        print(f"  .. {label}: reference {refs[label]}", file=sys.stderr, flush=True)
    print_budgets(budgets, cores)

    def balance_row(label: str, name: str, clip: Path, extra: list[str], run_env: dict[str, str]) -> None:
        timing, got = run_balance(clip, extra, run_env)
        row = rows.setdefault((label, name), Runs())
        row.add(timing)
        row.verdicts.append(verdict(refs[label], got))
        print(
            f"  .. {label} {name}: {timing.wall:.1f} s, {timing.cpu:.1f} CPU s, load {timing.load:.1f}, "
            f"{row.verdicts[-1]}",
            file=sys.stderr,
            flush=True,
        )

    for k in range(args.repeat):
        for label, clip in CLIPS.items():
            for name, extra in VARIANTS.items():
                balance_row(label, name, clip, extra, env)
            if args.lever is not None and label in args.lever_clips:
                balance_row(label, "lever", clip, [], {**env, "PYTHONPATH": str(args.lever)})
            if not args.no_peer and shutil.which("bash") and PEER.is_file():
                timing = run_peer(clip)
                rows.setdefault((label, "Sports2D"), Runs()).add(timing)
                print(
                    f"  .. {label} Sports2D: {timing.wall:.1f} s, {timing.cpu:.1f} CPU s, load {timing.load:.1f}",
                    file=sys.stderr,
                    flush=True,
                )
        print_table(rows, k + 1)
    table = markdown_table(rows)
    print(f"\n{table}", end="")
    if args.markdown is not None:
        args.markdown.write_text(table)
        print(f"(written to {args.markdown})")
    if args.memory:
        memory_report(args.memory)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
