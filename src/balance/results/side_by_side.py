"""Two cameras in the annotated video: the side view, annotated as its own analysis, beside the front view's
frame of the same instant (the side clip's clock moved by the offset the movement gave)."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import cv2
import numpy as np

from balance.results.document import build_document
from balance.results.video import Overlay, flags_from_doc
from balance.video.reader import Frame, VideoReader

if TYPE_CHECKING:
    from balance.pipeline import Analysis


class SideBySide:
    """`beside(front_image, t_front)`: the front frame with the side view's frame of that instant to its right,
    both the same height. A context manager: it holds the side clip's reader open."""

    def __init__(self, side: Analysis, offset_s: float) -> None:
        self.offset_s = offset_s
        self.overlay = Overlay(side, flags_from_doc(build_document(side)))
        self._aspect = side.track.width / max(1, side.track.height)
        self._reader = VideoReader(side.clip, max_fps=None)
        self._frames: Iterator[Frame] | None = None
        self._current: Frame | None = None
        self._next: Frame | None = None

    def __enter__(self) -> SideBySide:
        self._reader.__enter__()
        self._frames = iter(self._reader)
        self._next = next(self._frames, None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._reader.__exit__(exc_type, exc, tb)

    def _side_at(self, t_side: float) -> Frame | None:
        """The side frame shown at t_side (the last one that started by then), reading forward as time goes."""
        assert self._frames is not None, "use SideBySide as a context manager"
        while self._next is not None and self._next.t_s <= t_side + 1e-6:
            self._current, self._next = self._next, next(self._frames, None)
        return self._current

    def beside(self, image: np.ndarray, t_front: float) -> np.ndarray:
        h = image.shape[0]
        t_side = t_front - self.offset_s
        frame = self._side_at(t_side)
        if frame is None:  # the side clip starts later: a dark panel until it does
            width = round(h * self._aspect)
            side = np.full((h, width, 3), 32, np.uint8)
        else:
            drawn = self.overlay.draw(frame.image, frame.t_s)
            side = cv2.resize(drawn, (round(drawn.shape[1] * h / drawn.shape[0]), h), interpolation=cv2.INTER_AREA)
        both = np.hstack([image, side])
        # The encoder wants even sizes (yuv420p).
        return both[:, : both.shape[1] - both.shape[1] % 2]
