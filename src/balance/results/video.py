"""The annotated video: the clip with the analysis drawn on every frame (balance.results.annotators), encoded
to an MP4 with the source's frame rate and frame count (balance.video.writer).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from balance.assess.catalogue import FLAGS, flag_words
from balance.files import atomic_path
from balance.pipeline import Analysis
from balance.results import document
from balance.results.annotators import Annotator, ShownFlag, default_annotators
from balance.results.scene import Scene
from balance.video.reader import VideoReader
from balance.video.writer import FrameWriter, open_writer

# A flag that fired at an instant stays on screen this long, enough to read two or three words; a flag
# about the whole trial (no times) is shown for as long once the analysed window starts.
FLAG_SHOW_S = 2.5


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


class Overlay:
    """The analysis drawn onto any frame of the clip: a Scene precomputed once, and its annotators in order."""

    def __init__(
        self, analysis: Analysis, flags: Sequence[ShownFlag] = (), annotators: Sequence[Annotator] | None = None
    ) -> None:
        self.scene = Scene(analysis)
        self.annotators = list(annotators) if annotators is not None else default_annotators(flags)

    def nearest(self, t_s: float) -> int:
        """The analysed frame closest in time (frames skipped by max_fps borrow their neighbour's pose)."""
        return self.scene.nearest(t_s)

    def draw(self, image: np.ndarray, t_s: float) -> np.ndarray:
        """A copy of the frame shown at t_s with the analysis drawn on it."""
        return self.draw_into(image.copy(), t_s)

    def draw_into(self, image: np.ndarray, t_s: float) -> np.ndarray:
        """Draw the analysis onto the frame shown at t_s itself (a frame the caller owns), and return it."""
        at = self.scene.at(t_s)
        for annotator in self.annotators:
            annotator.annotate(image, at)
        return image


def write_annotated(
    analysis: Analysis,
    out_path: Path,
    *,
    flags: Sequence[ShownFlag] | None = None,
    snapshot_at_s: float | None = None,
) -> tuple[Encoded, np.ndarray | None]:
    """encode_annotated to out_path, which appears only when complete (balance.files.atomic_path)."""
    with atomic_path(out_path) as tmp:
        encoded, snapshot = encode_annotated(analysis, tmp, flags=flags, snapshot_at_s=snapshot_at_s)
    return replace(encoded, path=Path(out_path)), snapshot


def encode_annotated(
    analysis: Analysis,
    path: Path,
    *,
    flags: Sequence[ShownFlag] | None = None,
    snapshot_at_s: float | None = None,
) -> tuple[Encoded, np.ndarray | None]:
    """Decode the clip again at its full frame rate, annotate every frame and encode it to `path` (a file the
    caller makes atomic: a temporary name of balance.files).

    flags: what to show (default: every trial's flags from the analysis). Returns what was written and, when
    snapshot_at_s is given, the annotated frame nearest that time (BGR) for the report.
    """
    if flags is None:
        flags = flags_from_doc(document.build_document(analysis))
    path = Path(path)
    fps = analysis.clip.fps_nominal or analysis.track.fps or 30.0
    overlay = Overlay(analysis, flags)
    writer: FrameWriter | None = None
    codec, note = "", None
    snapshot: np.ndarray | None = None
    best = math.inf
    count = 0
    try:
        with VideoReader(analysis.clip, max_fps=None) as reader:  # its VideoInfo: the clip is not hashed again
            for frame in reader:
                # Each decoded frame is a fresh array the loop owns: drawn in place, no 6 MB copy a 1080p frame.
                image = overlay.draw_into(frame.image, frame.t_s)
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
