"""Speed of the analysis library call (decode + pose + stance + metrics) per setting, on 720p and 1080p clips.

The pose stage in detail: workers and models, the pose model's own time apart, and levers. The headline
comparison (the default `balance analyze` against the peer, with the per-frame budget) is benchmarks/speed.py.

    .venv/bin/python benchmarks/speed_pose.py                # the shared 720p and 1080p clips + a built 30 s 1080p clip
    .venv/bin/python benchmarks/speed_pose.py --repeat 3     # median of 3 runs per row
    .venv/bin/python benchmarks/speed_pose.py --clip my.mp4  # any other clip too (repeatable)
    .venv/bin/python benchmarks/speed_pose.py --levers       # also: threads, more chunks, process start
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import queue
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import balance
from balance.errors import BalanceError
from balance.measure.trial import measure
from balance.pipeline import analyze
from balance.pose import estimate as balance_pose
from balance.pose.estimate import DEFAULT_MAX_FPS, resolve_model
from balance.pose.sides import consistent_sides
from balance.pose.workers import MIN_PARALLEL_S
from balance.stance.trials import find_trials
from balance.video.reader import VideoReader, probe

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
CLIP_720 = MEDIA / "positive" / "sls_studio_woman_tree_front.mp4"
CLIP_1080 = MEDIA / "positive" / "sls_studio_woman_lateral_leg_swing_front.mp4"
# Read when cv2 opens its first capture and when mediapipe is first imported, both later than this.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
LONG_REPEATS = 3  # the 10.2 s 1080p clip three times over: 30.5 s, past MIN_PARALLEL_S, so 2 chunks by default


@dataclass(frozen=True)
class Config:
    label: str
    model: str
    workers: int
    max_fps: float | None = DEFAULT_MAX_FPS


@dataclass(frozen=True)
class Clip:
    label: str
    path: Path
    configs: tuple[Config, ...]
    note: str = ""


@dataclass
class Run:
    wall_s: float
    frames: int
    cpu_s: float
    trials: tuple[tuple[str, float, float | None], ...] | None
    error: str = ""
    post_pose_s: float = 0.0


@dataclass
class Row:
    clip: Clip
    config: Config
    runs: list[Run] = field(default_factory=list)


STANDARD = (
    Config("workers=1 full (reference)", "full", 1),
    Config("workers=2 full", "full", 2),
    Config("workers=2 lite", "lite", 2),
)
SIXTY = (
    Config("workers=1 full max_fps 30 (reference)", "full", 1),
    Config("workers=2 full max_fps 30", "full", 2),
    Config("workers=2 lite max_fps 30", "lite", 2),
    Config("workers=2 full max_fps None", "full", 2, None),
)


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its reaped children (the pose worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def trial_key(trials: Any) -> tuple[tuple[str, float, float | None], ...]:
    return tuple(
        (
            t.stance_leg,
            round(t.lift_off_s, 1),
            None if t.touch_down_s is None else round(t.touch_down_s, 1),
        )
        for t in trials
    )


def trial_text(key: tuple[tuple[str, float, float | None], ...] | None) -> str:
    if key is None:
        return "none"
    if not key:
        return "no trials"
    return ", ".join(f"{leg[0].upper()} {lo:.1f}-{'end' if td is None else f'{td:.1f}'}" for leg, lo, td in key)


def run_pipeline(path: Path, config: Config) -> Run:
    """The whole library call, uncached, timed by the wall clock and by CPU time including the workers."""
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    try:
        result = analyze(path, model=config.model, workers=config.workers, max_fps=config.max_fps, use_cache=False)
    except BalanceError as err:
        wall = time.perf_counter() - t0
        return Run(wall, 0, cpu_seconds() - cpu0, None, error=f"{type(err).__name__}: {err.what}")
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    # Time the steps after the pose model again on the same track, to show what they cost.
    p0 = time.perf_counter()
    track = consistent_sides(result.track)
    timeline = find_trials(track)
    for trial in timeline.trials:
        with contextlib.suppress(ValueError):
            measure(track, trial, None)
    post = time.perf_counter() - p0
    return Run(wall, len(result.track), cpu, trial_key(result.timeline.trials), post_pose_s=post)


def rgb_numpy(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, :, ::-1])


def rgb_cvtcolor(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def landmarker(model: str, people: int = 0) -> Any:
    """The VIDEO-mode, one-person landmarker pose.py follows the subject with; with people > 0, the IMAGE-mode
    one it counts people with."""
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(resolve_model(model))),
        running_mode=vision.RunningMode.IMAGE if people else vision.RunningMode.VIDEO,
        num_poses=people or 1,
    )
    return vision.PoseLandmarker.create_from_options(options)


def _mp_image(rgb: np.ndarray) -> Any:
    import mediapipe as mpipe

    return mpipe.Image(image_format=mpipe.ImageFormat.SRGB, data=rgb)


@dataclass
class PoseLoop:
    """Seconds spent in each step of a plain single-process loop over the frames the pipeline analyses.

    steps[name] = [wall s, CPU s]; CPU is the whole process's (decoder threads included), so it barely moves
    when other programs share the cores, unlike the wall clock.
    """

    frames: int = 0
    load_s: dict[str, float] = field(default_factory=dict)
    steps: dict[str, list[float]] = field(default_factory=dict)
    same_bytes: bool = True

    def add(self, name: str, wall: float, cpu: float) -> None:
        step = self.steps.setdefault(name, [0.0, 0.0])
        step[0] += wall
        step[1] += cpu


# Steps of pose_loop, in order: decode = grab + retrieve (the BGR frame VideoReader yields); rgb np =
# np.ascontiguousarray(image[:, :, ::-1]), what pose.py did before commit 35ab048; rgb cv = cv2.cvtColor(image,
# COLOR_BGR2RGB), the same bytes, what it does since; mp.Image = wrapping the RGB array (a copy); detect = inside
# detect_for_video; census = pose.py's people count (IMAGE mode, several poses, every CENSUS_EVERY_S), per frame.
STEPS = ("decode", "rgb np", "rgb cv", "mp.Image", "detect full", "detect lite", "census")
CENSUS_EVERY_S: float | None = getattr(balance_pose, "CENSUS_EVERY_S", None)
MAX_PEOPLE: int = getattr(balance_pose, "MAX_PEOPLE", 3)


def pose_loop(path: Path, models: tuple[str, ...], max_fps: float | None) -> PoseLoop:
    """Decode, convert and run each model on every analysed frame, timing each step apart."""
    out = PoseLoop()
    marks: dict[str, Any] = {}
    for m in models:
        t0 = time.perf_counter()
        marks[m] = landmarker(m)
        out.load_s[m] = time.perf_counter() - t0
    census = landmarker(models[0], MAX_PEOPLE) if CENSUS_EVERY_S else None
    next_census = 0.0
    last_ms = -1
    clock = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        out.add(name, wall - clock[0], cpu - clock[1])
        clock[:] = [wall, cpu]

    try:
        with VideoReader(path, max_fps=max_fps) as reader:
            frames: Iterator[Any] = iter(reader)
            clock[:] = [time.perf_counter(), time.process_time()]
            while (frame := next(frames, None)) is not None:
                lap("decode")
                rgb_np = rgb_numpy(frame.image)
                lap("rgb np")
                rgb = rgb_cvtcolor(frame.image)
                lap("rgb cv")
                if out.frames % 50 == 0:
                    out.same_bytes &= bool(np.array_equal(rgb, rgb_np))
                ms = max(round(frame.t_s * 1000), last_ms + 1)
                last_ms = ms
                for m, lm in marks.items():
                    clock[:] = [time.perf_counter(), time.process_time()]
                    image = _mp_image(rgb)
                    lap("mp.Image" if m == models[0] else "mp.Image again")
                    lm.detect_for_video(image, ms)
                    lap(f"detect {m}")
                clock[:] = [time.perf_counter(), time.process_time()]
                if census is not None and CENSUS_EVERY_S and frame.t_s >= next_census:
                    census.detect(_mp_image(rgb))
                    next_census = frame.t_s + CENSUS_EVERY_S
                lap("census")
                out.frames += 1
                clock[:] = [time.perf_counter(), time.process_time()]
    finally:
        for lm in marks.values():
            lm.close()
        if census is not None:
            census.close()
    return out


def threaded_loop(path: Path, model: str, max_fps: float | None, convert: str) -> tuple[int, float, float]:
    """Decode and colour-convert in a thread while the main thread runs the model: (frames, wall s, cpu s)."""
    to_rgb = rgb_cvtcolor if convert == "cvtColor" else rgb_numpy
    q: queue.Queue[tuple[float, np.ndarray] | None] = queue.Queue(maxsize=8)

    def produce() -> None:
        try:
            with VideoReader(path, max_fps=max_fps) as reader:
                for frame in reader:
                    q.put((frame.t_s, to_rgb(frame.image)))
        finally:
            q.put(None)

    cpu0, t0 = cpu_seconds(), time.perf_counter()
    frames, last_ms = 0, -1
    with landmarker(model) as lm:
        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        while (item := q.get()) is not None:
            ms = max(round(item[0] * 1000), last_ms + 1)
            last_ms = ms
            lm.detect_for_video(_mp_image(item[1]), ms)
            frames += 1
        thread.join()
    return frames, time.perf_counter() - t0, cpu_seconds() - cpu0


def sequential_loop(path: Path, model: str, max_fps: float | None, convert: str) -> tuple[int, float, float]:
    """The same loop as threaded_loop without the thread: (frames, wall s, cpu s)."""
    to_rgb = rgb_cvtcolor if convert == "cvtColor" else rgb_numpy
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    frames, last_ms = 0, -1
    with landmarker(model) as lm, VideoReader(path, max_fps=max_fps) as reader:
        for frame in reader:
            ms = max(round(frame.t_s * 1000), last_ms + 1)
            last_ms = ms
            lm.detect_for_video(_mp_image(to_rgb(frame.image)), ms)
            frames += 1
    return frames, time.perf_counter() - t0, cpu_seconds() - cpu0


_WORKER_START = """
import sys, time
t0 = time.perf_counter()
import balance.pose.estimate, balance.pose.landmarker
t1 = time.perf_counter()
balance.pose.landmarker.quiet_mediapipe()
import mediapipe
from mediapipe.tasks.python import BaseOptions, vision
t2 = time.perf_counter()
options = vision.PoseLandmarkerOptions(
    base_options=BaseOptions(model_asset_path=sys.argv[1]), running_mode=vision.RunningMode.VIDEO, num_poses=1
)
vision.PoseLandmarker.create_from_options(options).close()
print(t1 - t0, t2 - t1, time.perf_counter() - t2)
"""


def process_start(model: str) -> tuple[float, float, float, float]:
    """A pose worker's fixed cost, as pose.py starts one (a fresh interpreter): (total wall s from launch to
    exit, import balance.pose.estimate s, import mediapipe s, model load s)."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _WORKER_START, str(resolve_model(model))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    wall = time.perf_counter() - t0
    imp_balance, imp_mediapipe, load = (float(x) for x in out[-3:])
    return wall, imp_balance, imp_mediapipe, load


def build_long_clips(src: Path, folder: Path, repeats: int, sixty: bool) -> tuple[Path, Path | None]:
    """The clip `repeats` times over, re-encoded (mp4v) at its own rate and, if asked, with every frame doubled."""
    info = probe(src)
    fourcc = cv2.VideoWriter.fourcc(*"mp4v")
    size = (info.width, info.height)
    long_path = folder / f"{src.stem}_x{repeats}.mp4"
    sixty_path = folder / f"{src.stem}_x{repeats}_60fps.mp4" if sixty else None
    writer = cv2.VideoWriter(str(long_path), fourcc, info.fps_nominal, size)
    writer60 = cv2.VideoWriter(str(sixty_path), fourcc, 2 * info.fps_nominal, size) if sixty_path else None
    try:
        for _ in range(repeats):
            with VideoReader(src) as reader:
                for frame in reader:
                    writer.write(frame.image)
                    if writer60 is not None:
                        writer60.write(frame.image)
                        writer60.write(frame.image)
    finally:
        writer.release()
        if writer60 is not None:
            writer60.release()
    return long_path, sixty_path


def describe(path: Path) -> str:
    info = probe(path)
    return f"{info.width}x{info.height}, {info.fps_nominal:.2f} fps, {info.duration_s:.1f} s, {info.frame_count} frames"


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(rows: list[Row]) -> None:
    head = (
        f"{'clip':<14} {'config':<38} {'wall s':>7} {'frames':>6} {'fps':>6} {'x real':>6} {'cpu/wall':>8} "
        f"{'cpu ms/frame':>12} {'x real idle':>11} {'post s':>6}  trials"
    )
    print(head)
    print("-" * len(head))
    refs: dict[str, tuple[tuple[str, float, float | None], ...] | None] = {}
    for row in rows:
        duration = probe(row.clip.path).duration_s
        ok = [r for r in row.runs if not r.error]
        wall = med([r.wall_s for r in row.runs])
        frames = ok[0].frames if ok else 0
        cpu = med([r.cpu_s / r.wall_s for r in row.runs])
        cpu_frame = med([r.cpu_s / r.frames * 1000 for r in ok]) if ok else float("nan")
        cores = min(row.config.workers, os.cpu_count() or 1)
        idle = duration * cores / med([r.cpu_s for r in row.runs])
        post = med([r.post_pose_s for r in ok])
        keys = {r.trials for r in row.runs}
        key = row.runs[0].trials
        if row.clip.label not in refs:
            refs[row.clip.label] = key
            verdict = f"reference: {trial_text(key)}"
        else:
            ref = refs[row.clip.label]
            verdict = "same trials" if keys == {ref} else f"DIFFERENT: {' / '.join(trial_text(k) for k in keys)}"
        if row.runs[0].error:
            verdict += f" ({row.runs[0].error})"
        print(
            f"{row.clip.label:<14} {row.config.label:<38} {wall:7.1f} {frames:6d} {frames / wall:6.1f} "
            f"{duration / wall:6.2f} {cpu:8.2f} {cpu_frame:12.1f} {idle:11.2f} {post:6.2f}  {verdict}"
        )


def print_pose_loops(loops: dict[str, list[PoseLoop]]) -> None:
    print(
        "\nPose model on its own: a plain single-process loop over the same frames (max_fps 30), "
        "ms per frame as wall/CPU"
    )
    head = f"{'clip':<14} {'frames':>6} " + " ".join(f"{s:>11}" for s in STEPS) + f" {'load full s':>11}"
    print(head)
    print("-" * len(head))
    for label, runs in loops.items():
        n = runs[0].frames
        if not n:
            continue
        cells = []
        for step in STEPS:
            wall = med([r.steps[step][0] for r in runs]) / n * 1000
            cpu = med([r.steps[step][1] for r in runs]) / n * 1000
            cells.append(f"{wall:5.1f}/{cpu:<5.1f}")
        load = med([r.load_s["full"] for r in runs])
        print(f"{label:<14} {n:6d} " + " ".join(f"{c:>11}" for c in cells) + f" {load:11.2f}")
        if not all(r.same_bytes for r in runs):
            print("  WARNING: cvtColor and the numpy reversal gave different bytes")
    print(
        "decode = grab + retrieve as VideoReader yields the BGR frame; rgb np = np.ascontiguousarray(image[:, :, ::-1])"
        ", what pose.py did before commit 35ab048; rgb cv = cv2.cvtColor(image, cv2.COLOR_BGR2RGB), the same bytes, "
        "what it does since; mp.Image = wrapping the RGB array; detect = inside detect_for_video; census = pose.py's "
        f"people count (IMAGE mode, up to {MAX_PEOPLE} poses, every {CENSUS_EVERY_S} s of clip), spread per frame"
    )


def chunk_times(path: Path, repeat: int) -> None:
    """Each of the two chunks a workers=2 run makes, run one after the other in this process."""
    from balance.pose.estimate import WARMUP_S, _Chunk, _run_chunk

    info = probe(path)
    model = str(resolve_model("full"))
    mid = info.duration_s / 2
    chunks = (
        _Chunk(info, model, 0.0, 0.0, mid, DEFAULT_MAX_FPS),
        _Chunk(info, model, mid - WARMUP_S, mid, np.inf, DEFAULT_MAX_FPS),
    )
    walls: list[list[float]] = [[], []]
    for _ in range(repeat):
        for i, chunk in enumerate(chunks):
            t0 = time.perf_counter()
            _run_chunk(chunk)
            walls[i].append(time.perf_counter() - t0)
    skips = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with VideoReader(path, max_fps=DEFAULT_MAX_FPS) as reader:
            for frame in reader:
                if frame.t_s >= mid - WARMUP_S:
                    break
        skips.append(time.perf_counter() - t0)
    print(
        f"  workers=2 chunks run alone: chunk 1 (0-{mid:.1f} s) {med(walls[0]):.1f} s, chunk 2 "
        f"({mid:.1f} s-end, tracker from {mid - WARMUP_S:.1f} s) {med(walls[1]):.1f} s, of which "
        f"{med(skips):.1f} s decoding the frames before its warm-up (thrown away)"
    )


def levers(path: Path, repeat: int) -> None:
    """Where the time of a 2-process run goes, and what changing the loop would buy, on one clip."""
    duration = probe(path).duration_s
    print(f"\nLevers on {path.name} ({describe(path)}), median of {repeat}")
    starts = [process_start("full") for _ in range(repeat)]
    print(
        f"  start a worker interpreter + imports + load full model: {med([s[0] for s in starts]):.2f} s "
        f"(import balance.pose {med([s[1] for s in starts]):.2f} s, import mediapipe {med([s[2] for s in starts]):.2f}"
        f" s, model load {med([s[3] for s in starts]):.2f} s)"
    )
    for convert in ("numpy", "cvtColor"):
        for name, fn in (("sequential", sequential_loop), ("decode thread", threaded_loop)):
            res = [fn(path, "full", DEFAULT_MAX_FPS, convert) for _ in range(repeat)]
            n, wall, cpu = res[0][0], med([r[1] for r in res]), med([r[2] / r[1] for r in res])
            print(
                f"  1 process, {name:<13} rgb by {convert:<8}: {wall:6.1f} s, {n / wall:5.1f} fps, "
                f"x{duration / wall:.2f} real time, cpu/wall {cpu:.2f}"
            )
    chunk_times(path, repeat)
    for workers in (3, 4):
        runs = [run_pipeline(path, Config(f"workers={workers}", "full", workers)) for _ in range(repeat)]
        wall = med([r.wall_s for r in runs])
        print(
            f"  pipeline workers={workers} full: {wall:6.1f} s, {runs[0].frames / wall:5.1f} fps, "
            f"x{duration / wall:.2f} real time, cpu/wall {med([r.cpu_s / r.wall_s for r in runs]):.2f}, "
            f"trials {trial_text(runs[0].trials)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, action="append", default=[], help="another clip to time (repeatable)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the median is printed (default 1)")
    parser.add_argument("--no-long", action="store_true", help="skip building and timing the 30 s 1080p clips")
    parser.add_argument("--no-60fps", action="store_true", help="skip the 60 fps version of the built clip")
    parser.add_argument("--no-shared", action="store_true", help="time only the --clip clips")
    parser.add_argument("--levers", action="store_true", help="also time threads, more chunks and process start")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    print(f"balance speed benchmark, {date.today().isoformat()}")
    print(
        f"machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"load average {os.getloadavg()[0]:.2f} at start; python {platform.python_version()}, "
        f"opencv {cv2.__version__}; balance from {Path(balance.__file__).parent}"
    )
    clips: list[Clip] = []
    shared_ok = CLIP_720.is_file() and CLIP_1080.is_file()
    if not args.no_shared:
        if shared_ok:
            clips += [Clip("720p 24fps", CLIP_720, STANDARD), Clip("1080p 30fps", CLIP_1080, STANDARD)]
        else:
            print(f"The shared clips are not in {MEDIA} (they are not in the repository): skipping them.")
    clips += [Clip(f"clip {i + 1}", p, STANDARD) for i, p in enumerate(args.clip)]
    for c in clips:
        if not c.path.is_file():
            print(f"No clip at {c.path}: skipped.")
    clips = [c for c in clips if c.path.is_file()]

    with tempfile.TemporaryDirectory(prefix="balance-speed-") as tmp:
        if not args.no_shared and shared_ok and not args.no_long:
            t0 = time.perf_counter()
            long_path, sixty_path = build_long_clips(CLIP_1080, Path(tmp), LONG_REPEATS, not args.no_60fps)
            print(
                f"built in {time.perf_counter() - t0:.0f} s: the 1080p clip {LONG_REPEATS} times over, "
                "re-encoded with cv2.VideoWriter (mp4v, the only encoder OpenCV's wheel has). Caveat: MPEG-4 Part 2 "
                "decodes faster than the source's H.264 (compare the decode column of the two 1080p rows below), "
                "so these rows are a little optimistic for an H.264 clip of the same length"
            )
            clips.append(Clip("1080p 30fps x3", long_path, STANDARD))
            if sixty_path is not None:
                clips.append(Clip("1080p 60fps x3", sixty_path, SIXTY, "every frame written twice"))
        if not clips:
            print("Nothing to time: no clips found. Pass --clip PATH.")
            return 0
        for c in clips:
            extra = f"; {c.note}" if c.note else ""
            print(f"  {c.label:<14} {c.path.name}: {describe(c.path)}{extra}")
        print(f"MIN_PARALLEL_S = {MIN_PARALLEL_S} s; analyze(..., use_cache=False); median of {args.repeat} run(s)\n")

        import mediapipe  # noqa: F401  (imported once up front so the first in-process row does not pay for it)

        rows = [Row(c, cfg) for c in clips for cfg in c.configs]
        loops: dict[str, list[PoseLoop]] = {}
        for _ in range(args.repeat):
            for row in rows:
                run = run_pipeline(row.clip.path, row.config)
                row.runs.append(run)
                print(
                    f"  .. {row.clip.label}, {row.config.label}: {run.wall_s:.1f} s {run.error}",
                    file=sys.stderr,
                    flush=True,
                )
            for c in clips:
                if c.configs is STANDARD:
                    try:
                        loops.setdefault(c.label, []).append(pose_loop(c.path, ("full", "lite"), DEFAULT_MAX_FPS))
                    except BalanceError as err:
                        print(f"  .. {c.label}, pose loop failed: {err}", file=sys.stderr, flush=True)
                    else:
                        print(f"  .. {c.label}, pose loop", file=sys.stderr, flush=True)
        print_table(rows)
        print(
            "\nfps = frames analysed / wall s; x real = clip duration / wall s; cpu/wall = user+sys CPU of this "
            "process and its workers over wall (2.0 = both cores busy); cpu ms/frame = that CPU time per analysed "
            "frame (less sensitive than wall time to other work on the machine); x real idle = x real if that CPU time "
            "were spread evenly over min(workers, cores) otherwise idle cores (an estimate for a busy machine); "
            "post s = stance + metrics after pose"
        )
        print_pose_loops(loops)
        if args.levers:
            target = next((c.path for c in clips if c.label == "1080p 30fps x3"), clips[-1].path)
            levers(target, args.repeat)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
