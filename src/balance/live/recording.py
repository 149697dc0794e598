"""The raw recording of a live test: every captured frame and its capture time, kept whatever ends the run.

Both files are written under their final names as frames come, in forms that stay whole if the process dies
(power cut, SIGKILL): the video as fragmented MP4 (a self-contained fragment every half second, so a crash
loses at most the last one) and the capture times flushed row by row. Nothing needs renaming at the end.
"""

from __future__ import annotations

import csv
from collections.abc import Generator
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import cv2
import imageio_ffmpeg

from balance.errors import StoreError
from balance.video.reader import Frame

# A keyframe, and so a new fragment, every this many frames: 0.5 s at 30 fps.
FRAGMENT_FRAMES = 15
# Near-lossless for the offline analysis (x264's CRF scale: 0 lossless, 23 default, 18 "visually lossless"),
# at the fastest preset so the capture thread is never held up by the encoder.
_ENCODER = ["-preset", "ultrafast", "-crf", "18", "-g", str(FRAGMENT_FRAMES)]
_FRAGMENTED = ["-movflags", "frag_keyframe+empty_moov+default_base_moof"]


class ClipRecorder:
    """Writes every captured frame (H.264, fragmented MP4) and its capture time (CSV) as they come."""

    def __init__(self, out_dir: Path, base: str, width: int, height: int, fps: float) -> None:
        self.clip = out_dir / f"{base}.mp4"
        self.timestamps = out_dir / f"{base}.timestamps.csv"
        self.size = (width - width % 2, height - height % 2)  # H.264 in 4:2:0 needs even sides
        self.fps = fps if fps > 0 else 30.0
        self.frames = 0
        try:
            self._csv_file: IO[str] = self.timestamps.open("x", newline="")
        except OSError as exc:
            raise StoreError(
                f"cannot write {self.timestamps} ({exc.strerror})", "Choose another folder", option="out"
            ) from exc
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(["frame", "source_index", "t_s", "clip_t_s"])
        self._csv_file.flush()
        self._video: Generator[Any, bytes | None, None] | None = imageio_ffmpeg.write_frames(
            str(self.clip),
            self.size,
            pix_fmt_in="bgr24",
            fps=Fraction(self.fps).limit_denominator(1001),
            codec="libx264",
            quality=None,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=_ENCODER + _FRAGMENTED,
        )
        try:
            self._video.send(None)  # starts ffmpeg
        except (OSError, RuntimeError) as exc:
            self._csv_file.close()
            self.timestamps.unlink(missing_ok=True)
            raise StoreError(
                f"cannot write the recording to {self.clip} ({exc})", "Choose another folder", option="out"
            ) from exc

    def write(self, frame: Frame) -> None:
        if self._video is None:
            return
        image = frame.image
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self._video.send(image.tobytes())
        self._csv.writerow([self.frames, frame.index, f"{frame.t_s:.6f}", f"{self.frames / self.fps:.6f}"])
        self._csv_file.flush()  # in the operating system's hands: a crash of this process keeps every row
        self.frames += 1

    def finish(self) -> bool:
        """Close both files; False (and nothing left) when no frame came."""
        video, self._video = self._video, None
        if video is not None:
            video.close()  # ffmpeg writes the last fragment and exits
        self._csv_file.close()
        if self.frames == 0:
            self.clip.unlink(missing_ok=True)
            self.timestamps.unlink(missing_ok=True)
            return False
        return True
