"""Run MediaPipe PoseLandmarker (Tasks API, VIDEO mode) over a clip and return a `PoseTrack`.

Long clips are split into time chunks run in parallel processes; results are cached by clip and model hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from balance.config import settings
from balance.errors import ModelError, PoseError
from balance.pose.landmarks import N_LANDMARKS
from balance.video.reader import VideoInfo, VideoReader, probe

MODEL_NAMES = ("lite", "full", "heavy")
DEFAULT_MODEL = "full"
# Sway lives below ~3 Hz and the signals are low-passed at 6 Hz (see signals.py), so 30 frames a
# second samples it five times faster than the filter's cut-off: a 60 fps clip analysed at 30 fps
# loses nothing the metrics use and halves the pose model's work.
DEFAULT_MAX_FPS = 30.0
# The VIDEO-mode tracker needs a few frames to lock on; a worker starting mid-clip runs this long
# before its chunk and throws the warm-up away, so chunk boundaries do not change the landmarks' source.
WARMUP_S = 1.0
# Splitting has a fixed cost (a process start and a model load, about 1-2 s): not worth it for short clips.
MIN_PARALLEL_S = 12.0
# Bumped whenever the stored arrays change meaning, so stale cache entries are never read.
CACHE_VERSION = 2
# People are counted every CENSUS_EVERY_S seconds of clip, up to MAX_PEOPLE.
CENSUS_EVERY_S = 3.0
MAX_PEOPLE = 3


@dataclass(frozen=True)
class PoseTrack:
    """Per-frame pose of one subject. Frames with no pose hold NaN landmarks and zero visibility.

    image_xy: (N, 33, 2) pixels in the upright frame; image_z: (N, 33) MediaPipe's relative depth,
    in the same scale as x pixels; visibility, presence: (N, 33) in [0, 1]; world: (N, 33, 3) metres,
    MediaPipe world landmarks (origin at the hip centre, y down).
    """

    t: np.ndarray
    frame_index: np.ndarray
    image_xy: np.ndarray
    image_z: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world: np.ndarray
    width: int
    height: int
    clip_sha256: str
    model_name: str
    model_sha256: str
    frames_in_clip: int
    truncated: bool
    timestamps_from_container: bool
    people_in_view: int = 1  # most people the periodic census saw in one frame

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def detected(self) -> np.ndarray:
        return ~np.isnan(self.image_xy[:, 0, 0])

    @property
    def fps(self) -> float:
        """Mean frame rate of the analysed frames, from their real timestamps."""
        return float((len(self.t) - 1) / (self.t[-1] - self.t[0])) if len(self.t) > 1 else 0.0

    def save(self, path: Path) -> None:
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}
        tmp = path.with_name(path.name + ".partial")
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> PoseTrack:
        with np.load(path) as data:
            values: dict[str, Any] = {}
            for f in fields(cls):
                value = data[f.name]
                values[f.name] = value if value.ndim else value.item()
        return cls(**values)


def resolve_model(spec: str) -> Path:
    """`lite`, `full`, `heavy` (the bundles in models/) or a path to any PoseLandmarker `.task` file."""
    if spec in MODEL_NAMES:
        models_dir = settings().models_dir
        path = models_dir / f"pose_landmarker_{spec}.task"
        if not path.is_file():
            raise ModelError(
                f"the {spec} pose model is not in {models_dir}",
                "Build it with `python scripts/build_models.py --heavy`"
                if spec == "heavy"
                else "Restore it with `git checkout models/` or `python scripts/build_models.py`",
            )
        return path
    path = Path(spec)
    if not path.is_file():
        raise ModelError(
            f"no pose model at {spec}",
            "Pass --model lite, full, heavy or the path of a PoseLandmarker .task file",
        )
    return path


@dataclass(frozen=True)
class _Chunk:
    path: str
    model_path: str
    warm_from_s: float
    start_s: float
    end_s: float
    max_fps: float | None
    hide: str | None = None  # npz of frame_index -> box (x0, y0, x1, y1) to paint over before detection


def _quiet_mediapipe() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("absl").setLevel(logging.ERROR)


def _run_chunk(chunk: _Chunk, tick: Callable[[], None] | None = None) -> dict[str, np.ndarray]:
    """Landmarks for frames with start_s <= t < end_s; the tracker starts at warm_from_s."""
    _quiet_mediapipe()
    import mediapipe as mpipe
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=chunk.model_path),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
    )
    # Tracking several people costs the detector on every frame (about 1.7x the time, measured); a census
    # every few seconds is enough to tell the user that someone else is in view.
    census_options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=chunk.model_path),
        running_mode=vision.RunningMode.IMAGE,
        num_poses=MAX_PEOPLE,
    )
    people = 0
    next_census = chunk.start_s
    hidden = _load_boxes(chunk.hide)
    t_list: list[float] = []
    idx_list: list[int] = []
    img = []
    world = []
    last_ms = -1
    with (
        vision.PoseLandmarker.create_from_options(options) as landmarker,
        vision.PoseLandmarker.create_from_options(census_options) as census,
        VideoReader(chunk.path, max_fps=chunk.max_fps) as reader,
    ):
        for frame in reader:
            if frame.t_s < chunk.warm_from_s:
                continue
            if frame.t_s >= chunk.end_s:
                break
            # detect_for_video needs strictly increasing integer milliseconds.
            ms = max(round(frame.t_s * 1000), last_ms + 1)
            last_ms = ms
            image = _paint_over(frame.image, hidden.get(frame.index))
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # 1 ms at 1080p; a numpy channel reversal costs 20
            result = landmarker.detect_for_video(mpipe.Image(image_format=mpipe.ImageFormat.SRGB, data=rgb), ms)
            if frame.t_s < chunk.start_s:
                continue
            if frame.t_s >= next_census:
                found = census.detect(mpipe.Image(image_format=mpipe.ImageFormat.SRGB, data=rgb))
                people = max(people, len(found.pose_landmarks))
                next_census = frame.t_s + CENSUS_EVERY_S
            h, w = frame.image.shape[:2]
            t_list.append(frame.t_s)
            idx_list.append(frame.index)
            if result.pose_landmarks:
                lms = result.pose_landmarks[0]
                img.append([(lm.x * w, lm.y * h, lm.z * w, lm.visibility or 0.0, lm.presence or 0.0) for lm in lms])
                world.append([(lm.x, lm.y, lm.z) for lm in result.pose_world_landmarks[0]])
            else:
                img.append([(np.nan, np.nan, np.nan, 0.0, 0.0)] * N_LANDMARKS)
                world.append([(np.nan, np.nan, np.nan)] * N_LANDMARKS)
            if tick is not None:
                tick()
        decoded, truncated, from_container = (
            reader.frames_decoded,
            reader.truncated,
            reader.timestamps_from_container,
        )
    img_arr = np.asarray(img, dtype=np.float64).reshape(-1, N_LANDMARKS, 5)
    return {
        "t": np.asarray(t_list, dtype=np.float64),
        "frame_index": np.asarray(idx_list, dtype=np.int64),
        "image": img_arr,
        "world": np.asarray(world, dtype=np.float64).reshape(-1, N_LANDMARKS, 3),
        "status": np.array([decoded, truncated, from_container, people]),
    }


def person_boxes(track: PoseTrack, margin: float = 0.15) -> dict[int, tuple[int, int, int, int]]:
    """Per analysed frame, the followed person's landmark box grown by `margin` of its size, in pixels."""
    boxes = {}
    for i in np.flatnonzero(track.detected):
        lo, hi = track.image_xy[i].min(axis=0), track.image_xy[i].max(axis=0)
        pad = margin * (hi - lo)
        x0, y0 = np.maximum(lo - pad, 0)
        x1, y1 = np.minimum(hi + pad, (track.width, track.height))
        boxes[int(track.frame_index[i])] = (int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1)))
    return boxes


def _load_boxes(path: str | None) -> dict[int, tuple[int, int, int, int]]:
    if path is None:
        return {}
    with np.load(path) as data:
        return {int(i): tuple(int(v) for v in box) for i, box in zip(data["index"], data["box"], strict=True)}  # type: ignore[misc]


def _paint_over(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """The frame with one person covered by the picture's median colour, so the detector finds another."""
    if box is None:
        return image
    out = image.copy()
    x0, y0, x1, y1 = box
    out[y0:y1, x0:x1] = np.median(image.reshape(-1, 3), axis=0)
    return out


def estimate_pose(
    path: str | Path,
    model: str = DEFAULT_MODEL,
    *,
    max_fps: float | None = DEFAULT_MAX_FPS,
    workers: int | None = None,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
    hide: PoseTrack | None = None,
) -> PoseTrack:
    """Pose of the subject in every analysed frame of the clip at `path`.

    progress(done, total) is called as frames are processed (total is the header's estimate). `hide`, a
    track of one person in the same clip, is painted over in every frame so that another person is followed.
    """
    info = probe(path)
    model_path = resolve_model(model)
    model_sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
    boxes = person_boxes(hide) if hide is not None else {}
    hidden = hashlib.sha256(repr(sorted(boxes.items())).encode()).hexdigest()[:12] if boxes else "none"
    key = f"{info.sha256[:24]}-{model_sha[:16]}-{max_fps}-{hidden}-v{CACHE_VERSION}.npz"
    cached = settings().cache_dir / key
    if use_cache and cached.is_file():
        return PoseTrack.load(cached)

    if workers is None:
        workers = min(2, os.cpu_count() or 1) if info.duration_s >= MIN_PARALLEL_S else 1
    expected = _expected_frames(info, max_fps)
    with tempfile.TemporaryDirectory(prefix="balance-hide-") as tmp:
        hide_path = None
        if boxes:
            hide_path = str(Path(tmp) / "boxes.npz")
            np.savez(hide_path, index=np.array(list(boxes)), box=np.array(list(boxes.values())))
        parts = _run_parallel(info, str(model_path), max_fps, workers, expected, progress, hide_path)
    if not parts or sum(len(p["t"]) for p in parts) == 0:
        raise PoseError("no frames could be analysed", "Check that the file plays in a video player")
    track = _assemble(parts, info, model, model_sha)
    if not track.detected.any():
        raise PoseError(
            "no person was found in the clip",
            "Film the whole body, head to feet, in good light, with the camera steady",
        )
    if use_cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        track.save(cached)
    return track


def _expected_frames(info: VideoInfo, max_fps: float | None) -> int:
    fps = info.fps_nominal if not max_fps else min(info.fps_nominal, max_fps)
    return max(1, round(info.duration_s * fps)) if info.duration_s > 0 else max(1, info.frame_count)


def _run_parallel(
    info: VideoInfo,
    model_path: str,
    max_fps: float | None,
    workers: int,
    expected: int,
    progress: Callable[[int, int], None] | None,
    hide: str | None,
) -> list[dict[str, np.ndarray]]:
    if workers <= 1 or info.duration_s <= 0:
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, expected)

        return [_run_chunk(_Chunk(str(info.path), model_path, 0.0, 0.0, np.inf, max_fps, hide), tick)]

    bounds = np.linspace(0.0, info.duration_s, workers + 1)
    bounds[-1] = np.inf  # the header's duration is an estimate: the last chunk runs to the real end
    chunks = [
        _Chunk(str(info.path), model_path, max(0.0, lo - WARMUP_S) if i else 0.0, lo if i else 0.0, hi, max_fps, hide)
        for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]
    return _run_workers(chunks, expected, progress)


def _run_workers(
    chunks: list[_Chunk], expected: int, progress: Callable[[int, int], None] | None
) -> list[dict[str, np.ndarray]]:
    """Run each chunk in its own `python -m balance.pose.estimate` process and collect the results.

    Plain subprocesses rather than multiprocessing: spawn-based pools re-import the caller's main
    module, which breaks any script without an `if __name__ == "__main__"` guard.
    """
    counts = [0] * len(chunks)
    with tempfile.TemporaryDirectory(prefix="balance-pose-") as tmp:
        outs = [Path(tmp) / f"chunk{i}.npz" for i in range(len(chunks))]
        debug = settings().debug
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "balance.pose.estimate", json.dumps(asdict(c)), str(out)],
                stdout=subprocess.PIPE,
                stderr=None if debug else subprocess.DEVNULL,
                text=True,
            )
            for c, out in zip(chunks, outs, strict=True)
        ]

        def follow(i: int) -> None:
            stream = procs[i].stdout
            assert stream is not None
            for _ in stream:  # one line per analysed frame
                counts[i] += 1

        readers = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(len(procs))]
        for r in readers:
            r.start()
        try:
            while any(r.is_alive() for r in readers):
                for r in readers:
                    r.join(timeout=0.25)
                if progress is not None:
                    progress(sum(counts), expected)
            codes = [p.wait() for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        if any(codes):
            raise RuntimeError(f"pose worker failed (exit codes {codes}); rerun with BALANCE_DEBUG=1 to see why")
        parts = []
        for out in outs:
            with np.load(out) as data:
                parts.append({k: data[k] for k in data.files})
        return parts


def _worker_main(spec: str, out: str) -> None:
    chunk = _Chunk(**json.loads(spec))

    def tick() -> None:
        print(flush=True)

    part = _run_chunk(chunk, tick)
    np.savez(out, **part)  # type: ignore[arg-type]


def _assemble(parts: list[dict[str, np.ndarray]], info: VideoInfo, model: str, model_sha: str) -> PoseTrack:
    image = np.concatenate([p["image"] for p in parts])
    decoded = max(int(p["status"][0]) for p in parts)
    return PoseTrack(
        t=np.concatenate([p["t"] for p in parts]),
        frame_index=np.concatenate([p["frame_index"] for p in parts]),
        image_xy=image[:, :, :2].copy(),
        image_z=image[:, :, 2].copy(),
        visibility=image[:, :, 3].copy(),
        presence=image[:, :, 4].copy(),
        world=np.concatenate([p["world"] for p in parts]),
        width=info.width,
        height=info.height,
        clip_sha256=info.sha256,
        model_name=model if model in MODEL_NAMES else Path(model).name,
        model_sha256=model_sha,
        frames_in_clip=decoded,
        truncated=bool(parts[-1]["status"][1]),
        timestamps_from_container=all(bool(p["status"][2]) for p in parts),
        people_in_view=max(int(p["status"][3]) for p in parts),
    )


if __name__ == "__main__":
    _worker_main(sys.argv[1], sys.argv[2])
