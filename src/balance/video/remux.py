"""A browser's WebM recording made readable for the analysis: MediaRecorder writes WebM as a stream, with no
duration or frame rate in its header, so its H.264 is copied, not re-encoded, into an MP4, which has both.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from balance.files import atomic_path

REMUX_TIMEOUT_S = 600  # a copy without re-encoding runs at disk speed: minutes only for a clip of hours


def with_timestamps(clip: Path) -> Path:
    """The clip to analyse: a WebM's video stream copied into an MP4 beside it (the raw WebM stays as it
    was recorded); any other clip, or a WebM that MP4 cannot hold (VP8), as it is."""
    import imageio_ffmpeg

    if clip.suffix != ".webm":
        return clip
    out = clip.with_suffix(".mp4")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-map", "0:v:0", "-c", "copy"]
    try:
        # The temporary name keeps the extension: it picks the container.
        with atomic_path(out) as tmp:
            done = subprocess.run(
                [*cmd, "-movflags", "+faststart", str(tmp)], capture_output=True, timeout=REMUX_TIMEOUT_S
            )
            if done.returncode != 0:
                raise _NotCopied
    except (_NotCopied, subprocess.TimeoutExpired):
        return clip
    return out


class _NotCopied(Exception):
    """ffmpeg could not copy the stream: the partial file is removed and the WebM is analysed as it is."""
