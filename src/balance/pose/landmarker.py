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

Box = tuple[float, float, float, float]


def quiet_mediapipe() -> None:
    """Keep MediaPipe's and TensorFlow Lite's start-up banners off the user's terminal."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("absl").setLevel(logging.ERROR)


def picture(bgr: np.ndarray) -> Any:
    """A BGR frame as MediaPipe's SRGB image (mediapipe.Image)."""
    import mediapipe as mpipe

    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # 1 ms at 1080p; a numpy channel reversal costs 20 (benchmarks/)
    return mpipe.Image(image_format=mpipe.ImageFormat.SRGB, data=rgb)


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

    def detect(self, frame: np.ndarray, t_s: float = 0.0) -> Poses:
        """Poses in a BGR frame; t_s, the frame's time, in VIDEO mode."""
        image = picture(frame)
        if self._video:
            ms = max(round(t_s * 1000), self._last_ms + 1)  # detect_for_video needs strictly increasing ms
            self._last_ms = ms
            result = self._landmarker.detect_for_video(image, ms)
        else:
            result = self._landmarker.detect(image)
        h, w = frame.shape[:2]
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


def detect_steadied(subject: Landmarker, image: np.ndarray, t_s: float, to_origin: np.ndarray) -> Poses:
    """The subject's pose in a frame turned back into the chunk's first frame's picture, so that the pose model's
    tracking over time sees a still scene (it smooths each landmark over frames, and a hand-held phone's motion
    through that smoothing reads as sway: the wobble of P9's hand-held copy stayed when its landmarks were
    corrected afterwards with the true motion); the landmarks come back in this frame's own picture."""
    h, w = image.shape[:2]
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], dtype=float)
    if np.abs(corners @ to_origin.T - corners).max() <= STEADY_PX:
        return subject.detect(image, t_s)
    steadied = cv2.warpAffine(image, to_origin[:2], (w, h))
    poses = subject.detect(steadied, t_s)
    back = np.linalg.inv(to_origin)
    xy = poses.image[:, :, :2] @ back[:2, :2].T + back[:2, 2]
    zoom = float(np.hypot(back[0, 0], back[1, 0]))
    image_out = np.concatenate([xy, poses.image[:, :, 2:3] * zoom, poses.image[:, :, 3:]], axis=2)
    return Poses(image_out, poses.world)


# The census paints the subject's landmark box (grown by this share of its size) grey before it looks for others:
# MediaPipe's detector ranks the people it finds and drops overlapping ones, and with the subject in the picture it
# missed a walker in plain view at nearly every look (P5's walker copy: seen at 2 of 24 looks with the subject in
# the picture, at every look while she was apart from the subject with the subject painted over;
# benchmarks/README.md, "Filmed the way people film, fourth pass").
CENSUS_MASK_MARGIN = 0.1
CENSUS_MASK_GREY = 128


def census_others(census: Landmarker, image: np.ndarray, subject: Poses) -> tuple[int, list[Box]]:
    """How many people a census finds in a BGR frame, and the landmark boxes of all but the followed subject
    (`subject`, this frame's pose from the tracker). Without a subject, everyone found counts as another."""
    h, w = image.shape[:2]
    box = person_box(subject.image[0, :, :2], w, h, margin=CENSUS_MASK_MARGIN) if len(subject) else None
    if box is not None:
        image = image.copy()
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        image[y0:y1, x0:x1] = CENSUS_MASK_GREY
    found = census.detect(image)
    boxes = [b for xy in found.image[:, :, :2] if (b := person_box(xy, w, h, margin=0.0)) is not None]
    return len(boxes) + (box is not None), boxes
