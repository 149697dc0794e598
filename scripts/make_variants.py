"""Make the variants of the labelled one-leg clips that benchmarks/real_clips.py and the tests judge.

From a representative subset of the positive clips (below) it writes, into a cache folder outside git
(default ../variants beside the checkout):

    blur    the head hidden by a heavy blur, located from the clip's own pose landmarks (face hidden for
            privacy, as clinics and research videos do)
    mirror  left and right exchanged (the labelled stance leg flips)
    tilt8   the picture rolled 8 degrees clockwise (a phone propped up askew), canvas enlarged, nothing cut
    small   the subject small in the frame (scaled to 40 %, padded to 70 % of the size) and re-encoded at
            low quality (x264 CRF 36)
    pitch   a camera pitched down: a perspective warp that narrows the bottom of the picture by 12 % of
            its width on each side, so verticals converge downwards

The subset keeps the pose model's work (the dominant cost on 2 cores) to about 6,000 frames:
P5 (licensed, synthetic, 4 s), P6 (studio tree, first 24 s: 10.5 s on two legs, then the hold), P7
(lateral leg swing), P9 (stance R, the whole lift-hold-touch-down cycle, 10 fps) and P13 (motionless,
three-quarter view). Left out: P1-P4 (1.7 s, too short to score in any variant) and P12 (101 s, mostly
close-ups). Needs the ffmpeg of imageio-ffmpeg; the pose of each source comes from the pose cache.

    python scripts/make_variants.py [--out DIR] [--only P9,P13] [--variants blur,mirror]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media" / "positive"
DEFAULT_OUT = ROOT.parent / "variants"
VARIANTS = ("blur", "mirror", "tilt8", "small", "pitch")
TILT_DEG = 8.0
SMALL_SCALE, SMALL_CANVAS, SMALL_CRF = 0.4, 0.7, 36
PITCH_INSET = 0.12
# Head box: the face landmarks' extent, grown to cover hair and chin, at least this share of shoulder width.
HEAD_GROW = 1.8
HEAD_MIN_SHOULDERS = 0.9


@dataclass(frozen=True)
class Source:
    tag: str
    path: Path
    seconds: float | None = None  # use only the first `seconds` of the clip


SOURCES = (
    Source("P5", ROOT / "sample_videos" / "sls_tfjs_pose_1_SYNTHETIC.mp4"),
    Source("P6", MEDIA / "sls_studio_woman_tree_front.mp4", 24.0),
    Source("P7", MEDIA / "sls_studio_woman_lateral_leg_swing_front.mp4"),
    Source("P9", MEDIA / "sls_sheknows_woman_tree_front_10fps.mp4"),
    Source("P13", MEDIA / "sls_white_studio_woman_knee_raise_oblique_MAYBE_AI.mp4"),
)


def variant_name(source: Source, variant: str) -> str:
    return f"{source.path.stem}__{variant}.mp4"


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        sys.exit("make_variants.py needs the ffmpeg of imageio-ffmpeg: `pip install imageio-ffmpeg` first.")
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _encode(crf: int) -> list[str]:
    # bitexact: the same ffmpeg writes the same bytes, so the pose cache (keyed by the clip's hash) keeps hitting.
    return ["-an", "-c:v", "libx264", "-preset", "fast", "-crf", str(crf), "-pix_fmt", "yuv420p"]


def _filter(variant: str) -> str:
    a = f"{TILT_DEG}*PI/180"
    return {
        "mirror": "hflip",
        "tilt8": f"rotate={a}:ow='ceil(rotw({a})/2)*2':oh='ceil(roth({a})/2)*2':c=gray",
        "small": (
            f"scale='trunc(iw*{SMALL_SCALE}/2)*2':'trunc(ih*{SMALL_SCALE}/2)*2',"
            f"pad='trunc(iw*{SMALL_CANVAS / SMALL_SCALE:.4f}/2)*2':'trunc(ih*{SMALL_CANVAS / SMALL_SCALE:.4f}/2)*2':"
            "'(ow-iw)/2':'(oh-ih)/2':gray"
        ),
        "pitch": (
            f"perspective=x0=0:y0=0:x1=W:y1=0:x2='{PITCH_INSET}*W':y2=H:x3='{1 - PITCH_INSET}*W':y3=H:sense=destination"
        ),
    }[variant]


def head_boxes(path: Path, n_frames: int) -> np.ndarray:
    """(n_frames, 4) x0, y0, x1, y1 of the head per decoded frame, from the clip's pose (held over gaps)."""
    from balance.pose.estimate import estimate_pose  # the tool's own pose, cached by the clip's hash

    track = estimate_pose(path)
    face = track.image_xy[:, :11]  # nose, eyes, ears, mouth
    shoulders = np.linalg.norm(track.image_xy[:, 11] - track.image_xy[:, 12], axis=1)
    centre = np.nanmean(face, axis=1)
    half = np.nanmax(np.abs(face - centre[:, None]), axis=1).max(axis=1) * HEAD_GROW
    half = np.fmax(half, 0.5 * HEAD_MIN_SHOULDERS * shoulders)
    boxes = np.column_stack([centre - half[:, None], centre + half[:, None]])
    ok = np.all(np.isfinite(boxes), axis=1)
    if not ok.any():
        sys.exit(f"{path.name}: no person found, so no head to blur")
    idx = np.arange(len(boxes))
    filled = np.column_stack([np.interp(idx, idx[ok], col[ok]) for col in boxes.T])
    at = np.searchsorted(track.frame_index, np.arange(n_frames)).clip(0, len(filled) - 1)
    return filled[at]


def blur_clip(exe: str, source: Source, out: Path) -> None:
    cap = cv2.VideoCapture(str(source.path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    if source.seconds:
        n = min(n, int(round(source.seconds * fps)))
    boxes = head_boxes(source.path, n)
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"]
    cmd += ["-s", f"{w}x{h}", "-r", f"{fps:.6f}", "-i", "-", *_encode(18), "-fflags", "+bitexact", str(out)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(n):
        ok, frame = cap.read()
        if not ok:
            break
        x0, y0, x1, y1 = np.round(boxes[i]).astype(int)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 > x0 and y1 > y0:
            k = max(3, (x1 - x0) // 2 | 1)
            frame[y0:y1, x0:x1] = cv2.GaussianBlur(frame[y0:y1, x0:x1], (k, k), 0)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit(f"ffmpeg failed on {out.name}")
    cap.release()


def make(source: Source, variant: str, out_dir: Path, exe: str) -> Path:
    out = out_dir / variant_name(source, variant)
    if out.is_file():
        return out
    tmp = out.with_suffix(".part.mp4")
    if variant == "blur":
        blur_clip(exe, source, tmp)
    else:
        cut = ["-t", str(source.seconds)] if source.seconds else []
        crf = SMALL_CRF if variant == "small" else 18
        cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", "-i", str(source.path), *cut]
        cmd += ["-vf", _filter(variant), *_encode(crf), "-fflags", "+bitexact", str(tmp)]
        subprocess.run(cmd, check=True)
    tmp.rename(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--only", default="", help="comma-separated source tags (P5,P6,P7,P9,P13)")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    exe = ffmpeg_exe()
    tags = set(filter(None, args.only.split(",")))
    for source in SOURCES:
        if tags and source.tag not in tags:
            continue
        if not source.path.is_file():
            print(f"skipped {source.tag}: {source.path} not found", file=sys.stderr)
            continue
        for variant in args.variants.split(","):
            print(make(source, variant, args.out, exe))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
