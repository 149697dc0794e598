"""The annotated video: the clip with the analysis drawn on every frame (balance.results.annotators), encoded
to an MP4 with the source's frame rate and frame count (balance.video.writer).
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from balance.assess.catalogue import FLAGS, flag_words
from balance.files import atomic_path
from balance.pipeline import Analysis
from balance.results import document
from balance.results.annotators import Annotator, ShownFlag, default_annotators
from balance.results.scene import Scene
from balance.video.reader import Frame, VideoReader
from balance.video.writer import DEFAULT_VIDEO_SIZE, FrameWriter, open_writer

# A flag that fired at an instant stays on screen this long, enough to read two or three words; a flag
# about the whole trial (no times) is shown for as long once the analysed window starts.
FLAG_SHOW_S = 2.5
# Frames decoded ahead of the drawing: enough to ride out the encoder's pauses, 8 x 2.7 MB at 720p.
PREFETCH_FRAMES = 8


@dataclass(frozen=True)
class Encoded:
    """What write_annotated produced: the file, its codec, its frame count and, when it will not play
    everywhere, why."""

    path: Path
    codec: str
    frames: int
    note: str | None


def flag_label(flag: document.Flag) -> str:
    """The few words drawn for a flag: the catalogue's label (the flag's own text for a code it does not
    know), with its size when that is an angle."""
    label = flag_words(flag.code).label if flag.code in FLAGS else flag.text.split(":")[0]
    if flag.unit == "deg" and flag.value is not None:
        label += f" {abs(flag.value):.0f} deg"
    return label


def flags_in(trial: document.Trial) -> list[ShownFlag]:
    """The flags of one trial, one ShownFlag per time it fired; a flag without times is about the whole trial
    and is shown when the analysed window starts."""
    out = []
    for raw in trial.flags:
        spans = raw.times or ((trial.metrics.analysed_from_s, trial.metrics.analysed_from_s),)
        anchor = flag_words(raw.code).anchor
        out += [ShownFlag(raw.code, flag_label(raw), a, max(b, a + FLAG_SHOW_S), anchor) for a, b in spans]
    return out


def flags_from_doc(doc: document.Document) -> list[ShownFlag]:
    return [f for t in doc.trials for f in flags_in(t)]


def video_scale(width: int, height: int, size: int | None) -> float:
    """The fraction of the clip's size the annotated video is drawn at: its shorter side brought down to `size`
    pixels (None: the clip's own size); never enlarged."""
    return 1.0 if size is None else min(1.0, size / min(width, height))


class Overlay:
    """The analysis drawn onto any frame of the clip: a Scene precomputed once, and its annotators in order.

    scale: the frames drawn on are this fraction of the clip's size (video_scale)."""

    def __init__(
        self,
        analysis: Analysis,
        flags: Sequence[ShownFlag] = (),
        annotators: Sequence[Annotator] | None = None,
        scale: float = 1.0,
    ) -> None:
        self.scene = Scene(analysis, scale)
        self.annotators = list(annotators) if annotators is not None else default_annotators(flags)

    def draw(self, image: np.ndarray, t_s: float) -> np.ndarray:
        """A copy of the frame shown at t_s with the analysis drawn on it."""
        return self.draw_into(image.copy(), t_s)

    def draw_into(self, image: np.ndarray, t_s: float) -> np.ndarray:
        """Draw the analysis onto the frame shown at t_s itself (a frame the caller owns), and return it."""
        at = self.scene.at(t_s)
        for annotator in self.annotators:
            annotator.annotate(image, at)
        return image


class _FramesAhead:
    """The reader's frames, decoded and scaled to `size` (w, h) in a thread ahead of the drawing: OpenCV lets go
    of the interpreter while it decodes and resizes, so the decoding runs on one core while the drawing (and
    ffmpeg's encoder) use the other. Use as a context manager; a decoding error is raised in the caller."""

    _END = object()

    def __init__(self, reader: VideoReader, size: tuple[int, int] | None) -> None:
        self._reader, self._size = reader, size
        self._queue: queue.Queue[object] = queue.Queue(PREFETCH_FRAMES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, daemon=True, name="video-decode")

    def __enter__(self) -> Iterator[Frame]:
        self._thread.start()
        return self._frames()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.1)
                return True
        return False

    def _fill(self) -> None:
        try:
            for frame in self._reader:
                image = frame.image
                if self._size is not None:
                    # Bilinear: 3.6 ms of CPU a 1080p frame brought to 720p, against 15 ms for INTER_AREA at this
                    # non-integer ratio (measured, benchmarks/README.md); the drawing goes on top at full sharpness.
                    image = cv2.resize(image, self._size, interpolation=cv2.INTER_LINEAR)
                if not self._put(replace(frame, image=image)):
                    return
        except BaseException as exc:  # raised again in the drawing thread, which owns the error handling
            self._put(exc)
        else:
            self._put(self._END)

    def _frames(self) -> Iterator[Frame]:
        while (item := self._queue.get()) is not self._END:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Frame)
            yield item


def write_annotated(
    analysis: Analysis,
    out_path: Path,
    *,
    flags: Sequence[ShownFlag] | None = None,
    snapshot_at_s: float | None = None,
    size: int | None = DEFAULT_VIDEO_SIZE,
) -> tuple[Encoded, np.ndarray | None]:
    """encode_annotated to out_path, which appears only when complete (balance.files.atomic_path)."""
    with atomic_path(out_path) as tmp:
        encoded, snapshot = encode_annotated(analysis, tmp, flags=flags, snapshot_at_s=snapshot_at_s, size=size)
    return replace(encoded, path=Path(out_path)), snapshot


def encode_annotated(
    analysis: Analysis,
    path: Path,
    *,
    flags: Sequence[ShownFlag] | None = None,
    snapshot_at_s: float | None = None,
    size: int | None = DEFAULT_VIDEO_SIZE,
    beside: Callable[[np.ndarray, float], np.ndarray] | None = None,
) -> tuple[Encoded, np.ndarray | None]:
    """Decode the clip again, annotate the frames the analysis measured (every frame with `--max-fps 0`) and encode
    them to `path` (a file the caller makes atomic: a temporary name of balance.files), at the rate they were
    measured at. Each frame shown carries its own skeleton, none borrowed from a neighbour, and the video costs
    what the analysis's rate costs: the decoding of skipped frames only (benchmarks/README.md, "The analysis rate").

    flags: what to show (default: every trial's flags from the analysis). size: the video's shorter side at most
    this many pixels (None: the clip's size); the frames are scaled before they are drawn on. Returns what was
    written and, when snapshot_at_s is given, the annotated frame nearest that time (BGR) for the report.
    """
    if flags is None:
        flags = flags_from_doc(document.build_document(analysis))
    path = Path(path)
    track = analysis.track
    thinned = len(track) < track.frames_in_clip
    fps = track.fps if thinned else (analysis.clip.fps_nominal or track.fps or 30.0)
    scale = video_scale(analysis.clip.width, analysis.clip.height, size)
    overlay = Overlay(analysis, flags, scale=scale)
    scaled = (overlay.scene.canvas.w, overlay.scene.canvas.h) if scale < 1.0 else None
    writer: FrameWriter | None = None
    codec, note = "", None
    snapshot: np.ndarray | None = None
    best = math.inf
    count = 0
    try:
        # Its VideoInfo: the clip is not hashed again.
        keep = track.frame_index.tolist() if thinned else None
        with VideoReader(analysis.clip, keep=keep) as reader, _FramesAhead(reader, scaled) as frames:
            for frame in frames:
                # Each decoded frame is a fresh array the loop owns: drawn in place, no 6 MB copy a 1080p frame.
                image = overlay.draw_into(frame.image, frame.t_s)
                if beside is not None:  # two cameras: the other view's frame of the same instant
                    image = beside(image, frame.t_s)
                if writer is None:
                    h, w = image.shape[:2]
                    writer, codec, note = open_writer(path, w, h, fps)
                writer.write(image)
                count += 1
                if snapshot_at_s is not None and abs(frame.t_s - snapshot_at_s) < best:
                    best, snapshot = abs(frame.t_s - snapshot_at_s), image
        if writer is None:
            raise RuntimeError(f"no frame of {analysis.clip.path} decoded")
        writer.close()
    except BaseException:
        if writer is not None:
            with contextlib.suppress(RuntimeError):
                writer.close()
        raise
    return Encoded(path, codec, count, note), snapshot
