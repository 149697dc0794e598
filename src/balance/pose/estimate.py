"""Run MediaPipe PoseLandmarker (Tasks API, VIDEO mode) over a clip and return a `PoseTrack`.

Long clips are split into time chunks run in parallel processes; results are cached by clip and model hash.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import sys
import tempfile
import types
import zipfile
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from balance.config import settings
from balance.errors import BalanceError, ModelError, PoseError
from balance.files import atomic_path
from balance.pose.cache import PoseCache
from balance.pose.landmarker import Landmarker, Poses, census_others, detect_steadied
from balance.pose.landmarks import N_LANDMARKS
from balance.pose.models import DEFAULT_MAX_FPS, DEFAULT_MODEL, MODEL_NAMES, rate_limit
from balance.pose.workers import Workers, worker_count
from balance.video.motion import ROW, SceneTracker, as_matrices, chain, person_box
from balance.video.reader import Frame, VideoInfo, VideoReader, probe

log = logging.getLogger(__name__)

# The VIDEO-mode tracker needs a few frames to lock on; a worker starting mid-clip runs this long
# before its chunk and throws the warm-up away, so chunk boundaries do not change the landmarks' source.
WARMUP_S = 1.0
# Bumped whenever the stored arrays change meaning, so stale cache entries are never read.
CACHE_VERSION = 13
# People are counted every CENSUS_EVERY_S seconds of clip, up to MAX_PEOPLE; once someone else was in view, every
# CROWD_CENSUS_S, so that balance.pose.crowd knows when they pass the subject (a walker crosses a body's width in
# about half a second).
CENSUS_EVERY_S = 2.0
CROWD_CENSUS_S = 0.5
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
    # (N, 7) per frame, the camera's motion found from the scene (balance.video.motion.ROW); (0, 7) where the
    # scene was not followed (the live test, a track made from landmarks alone).
    camera: np.ndarray = field(default_factory=lambda: np.zeros((0, ROW)))
    # (M, 5) the other people the census saw: time s, then their landmark box x0, y0, x1, y1 in pixels.
    others: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    # (N,) per frame, True where another person overlapped the subject and the landmarks were drawn in from the
    # frames either side (balance.pose.crowd); empty where no frame was.
    bridged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    def __len__(self) -> int:
        return len(self.t)

    @property
    def drawn_in(self) -> np.ndarray:
        """Per frame, whether its landmarks were drawn in from the frames either side (`bridged`, all False where
        it is empty)."""
        return self.bridged if len(self.bridged) == len(self) else np.zeros(len(self), dtype=bool)

    @property
    def detected(self) -> np.ndarray:
        return ~np.isnan(self.image_xy[:, 0, 0])

    @property
    def fps(self) -> float:
        """Mean frame rate of the analysed frames, from their real timestamps."""
        return float((len(self.t) - 1) / (self.t[-1] - self.t[0])) if len(self.t) > 1 else 0.0

    def save(self, path: Path) -> None:
        arrays = {f.name: np.asarray(getattr(self, f.name)) for f in fields(self)}
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: Path) -> PoseTrack:
        with np.load(path) as data:
            values: dict[str, Any] = {}
            for f in fields(cls):
                if f.name not in data.files and f.default_factory is not MISSING:
                    continue  # a stored track from before the field: it has its default
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
            "Give lite, full, heavy or the path of a PoseLandmarker .task file",
            option="model",
        )
    _check_bundle(path)
    return path


# A PoseLandmarker .task file is a zip archive holding these two TensorFlow Lite models.
_BUNDLE_MEMBERS = {"pose_detector.tflite", "pose_landmarks_detector.tflite"}


def _check_bundle(path: Path) -> None:
    """Refuse a file that is not a complete PoseLandmarker bundle before any pose process starts."""
    try:
        with zipfile.ZipFile(path) as bundle:
            missing = _BUNDLE_MEMBERS - set(bundle.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(
            f"{path} is not a pose model bundle (not a complete .task archive)",
            "Give lite, full, heavy or a PoseLandmarker .task file, copied again if it was cut off",
            option="model",
        ) from exc
    if missing:
        raise ModelError(
            f"{path} is an archive but not a PoseLandmarker bundle (it lacks {', '.join(sorted(missing))})",
            "Give lite, full, heavy or a PoseLandmarker .task file",
            option="model",
        )


@dataclass(frozen=True)
class _Chunk:
    clip: VideoInfo
    model_path: str
    warm_from_s: float
    start_s: float
    end_s: float
    max_fps: float | None
    hide: str | None = None  # npz of frame_index -> box (x0, y0, x1, y1) to paint over before detection

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "clip": {**asdict(self.clip), "path": str(self.clip.path)}})

    @classmethod
    def from_json(cls, text: str) -> _Chunk:
        spec = json.loads(text)
        return cls(**{**spec, "clip": VideoInfo(**{**spec["clip"], "path": Path(spec["clip"]["path"])})})


class _Rows:
    """The per-frame landmark rows of one chunk, collected as frames come."""

    def __init__(self) -> None:
        self.t: list[float] = []
        self.index: list[int] = []
        self.image: list[np.ndarray] = []
        self.world: list[np.ndarray] = []
        self.camera: list[np.ndarray] = []

    def add(self, frame: Frame, poses: Poses, camera: np.ndarray) -> None:
        self.camera.append(camera)
        self.t.append(frame.t_s)
        self.index.append(frame.index)
        if len(poses):
            self.image.append(poses.image[0])
            self.world.append(poses.world[0])
        else:
            self.image.append(_NO_POSE_IMAGE)
            self.world.append(_NO_POSE_WORLD)

    def arrays(self, status: list[int]) -> dict[str, np.ndarray]:
        return {
            "t": np.asarray(self.t, dtype=np.float64),
            "frame_index": np.asarray(self.index, dtype=np.int64),
            "image": np.asarray(self.image, dtype=np.float64).reshape(-1, N_LANDMARKS, 5),
            "world": np.asarray(self.world, dtype=np.float64).reshape(-1, N_LANDMARKS, 3),
            "camera": np.asarray(self.camera, dtype=np.float64).reshape(-1, ROW),
            "status": np.array(status),
        }


_NO_POSE_IMAGE = np.array([(np.nan, np.nan, np.nan, 0.0, 0.0)] * N_LANDMARKS)
_NO_POSE_WORLD = np.full((N_LANDMARKS, 3), np.nan)


def _run_chunk(chunk: _Chunk, tick: Callable[[], None] | None = None) -> dict[str, np.ndarray]:
    """Landmarks for frames with start_s <= t < end_s; the tracker starts at warm_from_s."""
    hidden = _load_boxes(chunk.hide)
    rows = _Rows()
    people = 0
    others: list[tuple[float, ...]] = []
    crowd = False
    origin = -1  # the frame the scene is followed from: this chunk's fits map into its picture
    scene = SceneTracker()
    next_census = chunk.start_s
    # Tracking several people costs the detector on every frame (about 1.7x the time, measured); a census
    # every few seconds is enough to tell the user that someone else is in view.
    with (
        Landmarker(chunk.model_path) as subject,
        Landmarker(chunk.model_path, video=False, num_poses=MAX_PEOPLE) as census,
        VideoReader(chunk.clip, max_fps=chunk.max_fps, skip_before_s=chunk.warm_from_s) as reader,
    ):
        boxes: list[tuple[float, float, float, float]] = []
        passers: list[tuple[float, float, float, float]] = []
        for frame in reader:
            if frame.t_s >= chunk.end_s:
                break
            image = _paint_over(frame.image, hidden.get(frame.index))
            # The scene is followed through the warm-up too, so that the chunk's first frame is chained; the
            # person's boxes are the previous frame's (they move little in a frame).
            camera = scene.step(frame.image, boxes + passers)
            origin = frame.index if origin < 0 else origin
            poses = detect_steadied(subject, image, frame.t_s, as_matrices(camera)[0])
            h, w = frame.image.shape[:2]
            boxes = [b for xy in poses.image[:, :, :2] if (b := person_box(xy, w, h))]
            if frame.t_s < chunk.start_s:
                continue
            if frame.t_s >= next_census:
                count, seen = census_others(census, image, poses)
                people = max(people, count)
                others += [(frame.t_s, *box) for box in seen]
                # Someone else moving through the scene is not the scene: their corners are kept out of the
                # camera's fit until the next census, over the way they may walk meanwhile (a body's width).
                passers = [(x0 - (x1 - x0), y0, x1 + (x1 - x0), y1) for x0, y0, x1, y1 in seen]
                crowd = crowd or count > 1  # once someone else was seen, they may pass the subject
                next_census = frame.t_s + (CROWD_CENSUS_S if crowd else CENSUS_EVERY_S)
            rows.add(frame, poses, camera)
            if tick is not None:
                tick()
        status = [reader.frames_decoded, reader.truncated, reader.timestamps_from_container, people, origin]
    return {**rows.arrays(status), "others": np.asarray(others, dtype=np.float64).reshape(-1, 5)}


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
    clip: VideoInfo | str | Path,
    model: str = DEFAULT_MODEL,
    *,
    max_fps: float | None = DEFAULT_MAX_FPS,
    workers: int | None = None,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
    hide: PoseTrack | None = None,
) -> PoseTrack:
    """Pose of the subject in every analysed frame of the clip (its VideoInfo from `probe`, hashed once, or a path).

    progress(done, total) is called as frames are processed (total is the header's estimate). `hide`, a
    track of one person in the same clip, is painted over in every frame so that another person is followed.
    Pose processes that `prestart` started for the same clip and options are taken over.
    """
    info = clip if isinstance(clip, VideoInfo) else probe(clip)
    max_fps = rate_limit(max_fps, info.fps_nominal)
    model_path = resolve_model(model)
    model_sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
    boxes = person_boxes(hide) if hide is not None else {}
    hidden = hashlib.sha256(repr(sorted(boxes.items())).encode()).hexdigest()[:12] if boxes else "none"
    cache = PoseCache.open(settings().cache_dir) if use_cache else None
    key = _cache_key(info, model_sha, max_fps, hidden)
    if cache is not None and (stored := cache.get(key, PoseTrack.load)) is not None:
        return stored

    workers = worker_count(workers, info.duration_s)
    started = _STARTED.pop(f"{key}-w{workers}", None) if not boxes else None
    expected = _expected_frames(info, max_fps)
    with tempfile.TemporaryDirectory(prefix="balance-hide-") as tmp:
        hide_path = None
        if boxes:
            hide_path = str(Path(tmp) / "boxes.npz")
            np.savez(hide_path, index=np.array(list(boxes)), box=np.array(list(boxes.values())))
        parts = _run_parallel(info, str(model_path), max_fps, workers, expected, progress, hide_path, started)
    if not parts or sum(len(p["t"]) for p in parts) == 0:
        raise PoseError("no frames could be analysed", "Check that the file plays in a video player")
    track = _assemble(parts, info, model, model_sha)
    if not track.detected.any():
        raise PoseError(
            "no person was found in the clip",
            "Film the whole body, head to feet, in good light, with the camera steady",
        )
    if cache is not None:
        cache.put(key, track.save)
    return track


def _cache_key(info: VideoInfo, model_sha: str, max_fps: float | None, hidden: str) -> str:
    return f"{info.sha256[:24]}-{model_sha[:16]}-{max_fps}-{hidden}-v{CACHE_VERSION}.npz"


def prestart(
    clip: str | Path,
    model: str = DEFAULT_MODEL,
    *,
    max_fps: float | None = DEFAULT_MAX_FPS,
    workers: int | None = None,
    use_cache: bool = True,
) -> None:
    """Start the clip's pose processes now, so that they import MediaPipe and load the model while the caller
    imports the analysis (SciPy, matplotlib: about 2.5 s of CPU before the first frame could be run, issue 20);
    the next `estimate_pose` of the same clip and options takes them over, and `discard_started` (or the
    interpreter's exit) stops any that nothing took. Only a speed-up: a clip, model or option that
    `estimate_pose` would refuse starts nothing here, and it raises its error when it is called."""
    try:
        info = probe(clip)
        model_path = resolve_model(model)
    except BalanceError:
        return
    max_fps = rate_limit(max_fps, info.fps_nominal)
    model_sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
    key = _cache_key(info, model_sha, max_fps, "none")
    # A stored pose (even one that turns out damaged) is left to estimate_pose.
    if (workers is not None and workers < 1) or (use_cache and (settings().cache_dir / key).is_file()):
        return
    count = worker_count(workers, info.duration_s, warn=False)
    chunks = _chunks(info, str(model_path), max_fps, count, None)
    _STARTED.setdefault(f"{key}-w{count}", _start_workers(chunks))


def discard_started() -> None:
    """Stop the pose processes `prestart` started that no analysis took over (the analysis refused its input)."""
    while _STARTED:
        _STARTED.popitem()[1].close()


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
    started: Workers | None = None,
) -> list[dict[str, np.ndarray]]:
    if started is not None:
        return started.collect(expected, progress)
    if workers <= 1 or info.duration_s <= 0:
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, expected)

        return [_run_chunk(_Chunk(info, model_path, 0.0, 0.0, np.inf, max_fps, hide), tick)]
    return _start_workers(_chunks(info, model_path, max_fps, workers, hide)).collect(expected, progress)


def _chunks(info: VideoInfo, model_path: str, max_fps: float | None, workers: int, hide: str | None) -> list[_Chunk]:
    """The clip cut into one time chunk a pose process (the whole clip for one)."""
    if workers <= 1 or info.duration_s <= 0:
        return [_Chunk(info, model_path, 0.0, 0.0, np.inf, max_fps, hide)]
    # Every chunk but the first also runs WARMUP_S before its start: the first is longer by that share, so that all
    # take about as long (10.2 s clip, each alone: 11.6 and 12.3 CPU s, not 10.0 and 14.1; benchmarks/README.md).
    warm = WARMUP_S if info.duration_s > WARMUP_S else 0.0
    share = (info.duration_s + (workers - 1) * warm) / workers
    bounds = np.array([0.0, *(i * share - (i - 1) * warm for i in range(1, workers + 1))])
    bounds[-1] = np.inf  # the header's duration is an estimate: the last chunk runs to the real end
    return [
        _Chunk(info, model_path, max(0.0, lo - WARMUP_S) if i else 0.0, lo if i else 0.0, hi, max_fps, hide)
        for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]


def _start_workers(chunks: list[_Chunk]) -> Workers:
    return Workers([c.to_json() for c in chunks])


# Pose processes `prestart` started, by cache key and process count, until `estimate_pose` takes them over.
_STARTED: dict[str, Workers] = {}
atexit.register(discard_started)


def _worker_main(spec: str, out: str) -> None:
    # MediaPipe's package imports its drawing helpers, and they matplotlib.pyplot, which a pose process never
    # uses: a placeholder saves 0.3 s of CPU in every process (0.71 -> 0.41 s to import MediaPipe, issue 20).
    sys.modules.setdefault("matplotlib.pyplot", types.ModuleType("matplotlib.pyplot"))
    chunk = _Chunk.from_json(spec)

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
        camera=chain(
            [p["camera"] for p in parts], [p["frame_index"] for p in parts], [int(p["status"][4]) for p in parts]
        ),
        others=np.concatenate([p["others"] for p in parts]),
    )


if __name__ == "__main__":
    _worker_main(sys.argv[1], sys.argv[2])
