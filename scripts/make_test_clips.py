"""Make the small video fixtures in tests/data/ from the licensed sample_videos/sls_tfjs_pose_1_SYNTHETIC.mp4.

Needs the ffmpeg binary shipped in the PyPI package imageio-ffmpeg (`pip install imageio-ffmpeg`); the
tests themselves only read the files this writes and never need ffmpeg.

    python scripts/make_test_clips.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "sample_videos" / "sls_tfjs_pose_1_SYNTHETIC.mp4"
OUT = ROOT / "tests" / "data"
MAX_BYTES = 300_000

# tests/test_video.py restates these to rebuild the expected frames and times.
ROTATED = "rotated_90_pose_1.mp4"
# The same turn over the whole 4 s clip: long enough to hold a full single-leg trial, for the pipeline test.
PHONE = "phone_portrait_pose_1.mp4"
CROP_WIDTH = 384  # centred crop of the 576x576 source, so that a wrong rotation changes the frame shape
VFR = "vfr_gap_pose_1.mp4"
DROPPED = (20, 34)  # source frames removed from the VFR clip: a 0.5 s hole in the timestamps
VFR_START_S = 1.5  # the VFR clip's first frame is stamped 1.5 s, as in a clip cut from a longer recording
AVI = "bframes_pose_1.avi"


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        sys.exit("make_test_clips.py needs the ffmpeg of imageio-ffmpeg: `pip install imageio-ffmpeg` first.")
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg(exe: str, *args: str | Path) -> None:
    """Run ffmpeg; the last argument is the output file."""
    *options, output = map(str, args)
    # bitexact keeps version strings out of the files, so rebuilding with the same ffmpeg changes no byte.
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", *options, "-fflags", "+bitexact", output]
    subprocess.run(cmd, check=True)


def x264(quality: int) -> list[str]:
    codec = ["-c:v", "libx264", "-preset", "slow", "-crf", str(quality), "-pix_fmt", "yuv420p"]
    return ["-an", *codec, "-flags:v", "+bitexact"]


def make_rotated(exe: str, tmp: Path, name: str, seconds: float) -> Path:
    """A phone-style portrait clip: landscape pixels and a display matrix saying 'turn 90° clockwise'."""
    stored = tmp / f"stored_{name}"
    # transpose=2 turns the upright picture 90 degrees anticlockwise, which is how a phone sensor held
    # upright stores it; the flag added below tells players to turn it back.
    ffmpeg(exe, "-i", SOURCE, "-t", str(seconds), "-vf", f"crop={CROP_WIDTH}:576,transpose=2", *x264(26), stored)
    out = OUT / name
    # -display_rotation is counter-clockwise; -90 is the matrix an iPhone writes for portrait video (the
    # old `rotate=90` tag). Stream copy: only the container's flag changes, not the pixels.
    ffmpeg(exe, "-display_rotation", "-90", "-i", stored, "-c", "copy", "-movflags", "+faststart", out)
    return out


def make_vfr(exe: str) -> Path:
    """Variable frame rate: a hole of 15 frames and a non-zero first timestamp, both kept by the container."""
    first, last = DROPPED
    out = OUT / VFR
    select = f"select='not(between(n\\,{first}\\,{last}))',scale=192:192"
    ffmpeg(
        exe, "-i", SOURCE, "-t", "2", "-vf", select, "-fps_mode", "passthrough", *x264(28),
        "-output_ts_offset", str(VFR_START_S), "-movflags", "+faststart", out,
    )  # fmt: skip
    return out


def make_vfr_remuxes(exe: str, vfr_mp4: Path) -> list[Path]:
    """The same frames and times in the other containers phones and editors write: MOV, MKV, WebM (VP9)."""
    mov, mkv, webm = (vfr_mp4.with_suffix(ext) for ext in (".mov", ".mkv", ".webm"))
    ffmpeg(exe, "-i", vfr_mp4, "-c", "copy", mov)
    ffmpeg(exe, "-i", vfr_mp4, "-c", "copy", mkv)
    # WebM cannot hold H.264, so this one is re-encoded; WebM headers carry no frame count, which tests that
    # OpenCV's estimate (duration x rate) is not mistaken for a cut-off file.
    ffmpeg(exe, "-i", vfr_mp4, "-fps_mode", "passthrough", "-c:v", "libvpx-vp9", "-b:v", "60k", webm)
    return [mov, mkv, webm]


def make_avi(exe: str) -> Path:
    """H.264 with B-frames in AVI: the container has no presentation times, so OpenCV's are partly junk."""
    out = OUT / AVI
    ffmpeg(exe, "-i", SOURCE, "-t", "2", "-vf", "scale=192:192", *x264(28), out)
    return out


def main() -> None:
    exe = ffmpeg_exe()
    if not SOURCE.is_file():
        sys.exit(f"make_test_clips.py needs the licensed source clip {SOURCE}, which is not there.")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vfr = make_vfr(exe)
        rotated = [make_rotated(exe, Path(tmp), ROTATED, 2), make_rotated(exe, Path(tmp), PHONE, 4)]
        made = [*rotated, vfr, *make_vfr_remuxes(exe, vfr), make_avi(exe)]
    for path in made:
        size = path.stat().st_size
        if size > MAX_BYTES:
            sys.exit(f"{path.name} is {size} bytes, over the {MAX_BYTES} limit for committed fixtures.")
        print(f"{path.relative_to(ROOT)}  {size} bytes")


if __name__ == "__main__":
    main()
