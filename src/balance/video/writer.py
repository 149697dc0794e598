"""Writing video: BGR frames to an MP4 file, H.264 through ffmpeg when one with libx264 is found (imageio-ffmpeg
ships one), else OpenCV's MPEG-4 Part 2.

The caller chooses the file name; balance.files makes it atomic (a temporary name renamed when complete).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

# The annotated video's shorter side at most this many pixels (720p) unless the clip's full size is asked for: a
# 1080p clip has 2.25 times the pixels to scale, draw on and encode, for detail a screen showing the video
# beside the report does not need (benchmarks/README.md, Speed). Below MIN_VIDEO_SIZE the video's words, never
# smaller than a readable font, would cover the picture.
DEFAULT_VIDEO_SIZE = 720
MIN_VIDEO_SIZE = 240


class FrameWriter(Protocol):
    def write(self, image: np.ndarray) -> None: ...

    def close(self) -> None: ...


@functools.lru_cache(maxsize=1)
def ffmpeg_with_x264() -> str | None:
    """An ffmpeg binary that has the libx264 encoder: imageio-ffmpeg's, else one on PATH, else None."""
    candidates = []
    try:
        import imageio_ffmpeg

        candidates.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    if which := shutil.which("ffmpeg"):
        candidates.append(which)
    for exe in candidates:
        try:
            encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if "libx264" in encoders.stdout:
            return exe
    return None


class FfmpegWriter:
    """Raw BGR frames piped to ffmpeg: H.264 (yuv420p, faststart) plays in browsers, phones and players."""

    def __init__(self, exe: str, path: Path, width: int, height: int, fps: float, faststart: bool = True) -> None:
        cmd = [
            exe,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{width}x{height}",
            "-framerate",
            f"{fps:.6f}",
            "-i",
            "-",
            "-an",
            # yuv420p needs even dimensions: an odd-sized clip gets one black pixel row or column.
            "-vf",
            "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-c:v",
            "libx264",
            # ultrafast: on the 10 s 1080p clip 4.6 s of encoder CPU instead of veryfast's 10.6 s, for the same
            # constant quality (CRF 23) in a 2.9x larger file (8.5 instead of 2.9 MiB); on two cores the encoder
            # competes with the drawing, so CPU is what the user waits for (benchmarks/README.md, Speed).
            "-preset",
            "ultrafast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            # The index at the front, for a browser to play as it loads (a part to be joined needs none).
            *(["-movflags", "+faststart"] if faststart else []),
            "-f",
            "mp4",
            str(path),
        ]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, image: np.ndarray) -> None:
        assert self._proc.stdin is not None
        try:
            # The array's own buffer, not a bytes copy of it (2.7 MB a 720p frame).
            self._proc.stdin.write(np.ascontiguousarray(image).data)
        except BrokenPipeError as exc:
            raise RuntimeError(f"ffmpeg stopped: {self._stderr()}") from exc

    def _stderr(self) -> str:
        self._proc.wait()
        assert self._proc.stderr is not None
        return self._proc.stderr.read().decode(errors="replace").strip()

    def close(self) -> None:
        assert self._proc.stdin is not None
        if not self._proc.stdin.closed:
            self._proc.stdin.close()
        err = self._stderr()
        if self._proc.returncode != 0:
            raise RuntimeError(f"ffmpeg failed ({self._proc.returncode}): {err}")


class OpenCvWriter:
    """OpenCV's MPEG-4 Part 2 encoder: the fallback when no ffmpeg with libx264 is found."""

    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
        if not self._writer.isOpened():
            raise RuntimeError("OpenCV cannot open an MPEG-4 video writer")

    def write(self, image: np.ndarray) -> None:
        self._writer.write(image)

    def close(self) -> None:
        self._writer.release()


def open_writer(
    path: Path, width: int, height: int, fps: float, *, faststart: bool = True
) -> tuple[FrameWriter, str, str | None]:
    """A writer of BGR frames to an MP4 at `path`, its codec ("h264" or "mpeg4") and, when the file will not
    play everywhere, why. faststart: the H.264 file's index at its front (not needed for a part to be joined)."""
    exe = ffmpeg_with_x264()
    if exe is not None:
        return FfmpegWriter(exe, path, width, height, fps, faststart), "h264", None
    # OpenCV's pip wheels have no H.264 encoder and their VP9 one runs at a few frames a second, so
    # MPEG-4 Part 2 is the usable fallback; it plays in VLC and desktop players but not in browsers.
    note = (
        "the video is MPEG-4 Part 2 (no ffmpeg with libx264 was found): it plays in VLC and most desktop "
        "players but not in web browsers; install imageio-ffmpeg for H.264"
    )
    return OpenCvWriter(path, width, height, fps), "mpeg4", note
