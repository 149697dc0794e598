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
    """BGR frames, converted to YUV 4:2:0 and piped to ffmpeg: H.264 (faststart) plays in browsers, phones, players."""

    def __init__(self, exe: str, path: Path, width: int, height: int, fps: float) -> None:
        # YUV 4:2:0 needs even dimensions: an odd-sized clip gets one black pixel row or column.
        self._even = (width + width % 2, height + height % 2)
        cmd = [
            exe,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            # The frames come as YUV 4:2:0, converted by OpenCV: ffmpeg's own conversion from BGR cost 3.1 of its
            # 8.8 ms of CPU a 720p frame, OpenCV's 0.35 ms, and the decoded video is as close to the drawn frames
            # (mean error 1.2 against 1.8 grey levels; benchmarks/README.md, issue 20).
            "-pix_fmt",
            "yuv420p",
            "-s",
            f"{self._even[0]}x{self._even[1]}",
            "-framerate",
            f"{fps:.6f}",
            "-i",
            "-",
            "-an",
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
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            str(path),
        ]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, image: np.ndarray) -> None:
        assert self._proc.stdin is not None
        try:
            h, w = image.shape[:2]
            if (w, h) != self._even:
                image = cv2.copyMakeBorder(image, 0, self._even[1] - h, 0, self._even[0] - w, cv2.BORDER_CONSTANT)
            # The converted array's own buffer, not a bytes copy of it (1.4 MB a 720p frame).
            self._proc.stdin.write(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).data)
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


def open_writer(path: Path, width: int, height: int, fps: float) -> tuple[FrameWriter, str, str | None]:
    """A writer of BGR frames to an MP4 at `path`, its codec ("h264" or "mpeg4") and, when the file will not
    play everywhere, why."""
    exe = ffmpeg_with_x264()
    if exe is not None:
        return FfmpegWriter(exe, path, width, height, fps), "h264", None
    # OpenCV's pip wheels have no H.264 encoder and their VP9 one runs at a few frames a second, so
    # MPEG-4 Part 2 is the usable fallback; it plays in VLC and desktop players but not in browsers.
    note = (
        "the video is MPEG-4 Part 2 (no ffmpeg with libx264 was found): it plays in VLC and most desktop "
        "players but not in web browsers; install imageio-ffmpeg for H.264"
    )
    return OpenCvWriter(path, width, height, fps), "mpeg4", note
