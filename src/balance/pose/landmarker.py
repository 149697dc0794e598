"""The one place MediaPipe is set up: a PoseLandmarker from a model bundle, fed BGR frames, giving numpy arrays;
and the pose of a frame steadied against the camera's motion, and the other people a census finds.

Used by the offline pose run (estimate.py: VIDEO mode for the subject, IMAGE mode for the people census) and by
the live test (one frame at a time). MediaPipe is imported when the first landmarker is made, not at import.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from balance.errors import ModelError
from balance.pose.landmarks import N_LANDMARKS
from balance.video.motion import person_box


def quiet_mediapipe() -> None:
    """Keep MediaPipe's and TensorFlow Lite's start-up banners off the user's terminal."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("absl").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Picture:
    """One frame ready for MediaPipe: converted to RGB once, whichever landmarkers look at it."""

    image: Any  # mediapipe.Image (SRGB)
    width: int
    height: int


def picture(bgr: np.ndarray) -> Picture:
    import mediapipe as mpipe

    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # 1 ms at 1080p; a numpy channel reversal costs 20 (benchmarks/)
    return Picture(mpipe.Image(image_format=mpipe.ImageFormat.SRGB, data=rgb), bgr.shape[1], bgr.shape[0])


@dataclass(frozen=True)
class Poses:
    """Every pose found in one frame, first the one MediaPipe ranks first.

    image: (P, 33, 5): x, y pixels, z (MediaPipe's relative depth in x-pixel scale), visibility, presence;
    world: (P, 33, 3) metres, origin at the hip centre, y down. P = 0 when nobody was found.
    """

    image: np.ndarray
    world: np.ndarray

    def __len__(self) -> int:
        return len(self.image)


class Landmarker:
    """A PoseLandmarker: VIDEO mode (tracks across frames; call with increasing times) or IMAGE mode.

    A file that is not a PoseLandmarker bundle raises ModelError, in one line.
    """

    def __init__(self, model_path: str | Path, *, video: bool = True, num_poses: int = 1) -> None:
        quiet_mediapipe()
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_poses=num_poses,
        )
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:  # MediaPipe's "Unable to open zip archive" and kin
            raise ModelError(
                f"{model_path} is not a usable pose model ({str(exc).splitlines()[0][:120]})",
                "Give lite, full, heavy or a PoseLandmarker .task file",
                option="model",
            ) from exc
        self._video = video
        self._last_ms = -1

    def __enter__(self) -> Landmarker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._landmarker.close()

    def detect(self, frame: Picture | np.ndarray, t_s: float = 0.0) -> Poses:
        """Poses in a frame (a BGR array, or a Picture already converted); t_s, the frame's time, in VIDEO mode."""
        pic = frame if isinstance(frame, Picture) else picture(frame)
        if self._video:
            ms = max(round(t_s * 1000), self._last_ms + 1)  # detect_for_video needs strictly increasing ms
            self._last_ms = ms
            result = self._landmarker.detect_for_video(pic.image, ms)
        else:
            result = self._landmarker.detect(pic.image)
        w, h = pic.width, pic.height
        image = np.array(
            [
                [(p.x * w, p.y * h, p.z * w, p.visibility or 0.0, p.presence or 0.0) for p in pose]
                for pose in result.pose_landmarks
            ],
            dtype=np.float64,
        ).reshape(-1, N_LANDMARKS, 5)
        world = np.array(
            [[(p.x, p.y, p.z) for p in pose] for pose in result.pose_world_landmarks], dtype=np.float64
        ).reshape(-1, N_LANDMARKS, 3)
        return Poses(image, world)


# A frame is steadied before the pose model sees it once the camera has moved it by more than this at any corner
# (pixels); below it the frame is used as it is, so a still camera's frames are never resampled.
STEADY_PX = 0.5


def detect_steadied(
    subject: Landmarker, image: np.ndarray, t_s: float, to_origin: np.ndarray
) -> tuple[Poses, Picture | None]:
    """The subject's pose in a frame turned back into the chunk's first frame's picture, so that the pose model's
    tracking over time sees a still scene (it smooths each landmark over frames, and a hand-held phone's motion
    through that smoothing reads as sway: the wobble of P9's hand-held copy stayed when its landmarks were
    corrected afterwards with the true motion); the landmarks come back in this frame's own picture. Returns
    the poses and the frame as the census may look at it (None when the frame was steadied: the census then
    converts the frame itself)."""
    h, w = image.shape[:2]
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], dtype=float)
    if np.abs(corners @ to_origin.T - corners).max() <= STEADY_PX:
        pic = picture(image)
        return subject.detect(pic, t_s), pic
    steadied = cv2.warpAffine(image, to_origin[:2], (w, h))
    poses = subject.detect(picture(steadied), t_s)
    back = np.linalg.inv(to_origin)
    xy = poses.image[:, :, :2] @ back[:2, :2].T + back[:2, 2]
    zoom = float(np.hypot(back[0, 0], back[1, 0]))
    image_out = np.concatenate([xy, poses.image[:, :, 2:3] * zoom, poses.image[:, :, 3:]], axis=2)
    return Poses(image_out, poses.world), None


def other_boxes(found: Poses, subject: Poses, width: int, height: int) -> list[tuple[float, float, float, float]]:
    """The landmark boxes of everyone the census found but the followed subject (the pose nearest theirs)."""
    boxes = [person_box(xy, width, height, margin=0.0) for xy in found.image[:, :, :2]]
    if not len(subject) or not boxes:
        return [b for b in boxes if b is not None]
    gaps = np.nanmean(np.linalg.norm(found.image[:, :, :2] - subject.image[0][None, :, :2], axis=2), axis=1)
    me = int(np.nanargmin(gaps)) if np.isfinite(gaps).any() else -1
    return [b for k, b in enumerate(boxes) if k != me and b is not None]
