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
    handheld  a phone held in the hand: the picture drifts by up to 3 % of its size (0.1-0.6 Hz), zooms in
            and out by 3 %, turns by +-2 degrees and shakes a little (3 Hz, 0.3 %); the
            picture is zoomed in by 4 % so that little of the uncovered edge (black) shows
    blurmid   the head blurred in the middle third of the clip only (a face hidden part of the time)
    cover   the head covered by a grey box on and off, 2 s at a time (a hand or a sticker over the face)
    walker  a second person (the walking woman of N8, cut out with MediaPipe's segmentation) pasted behind
            the subject, walking across the picture and back

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
VARIANTS = ("blur", "mirror", "tilt8", "small", "pitch", "handheld", "blurmid", "cover", "walker")
# Drawn frame by frame in Python (the others are one ffmpeg filter each).
DRAWN = ("blur", "handheld", "blurmid", "cover", "walker")
# handheld: drift (share of the picture) and its two frequencies (Hz), zoom, roll (deg), shake (share, Hz).
HAND_DRIFT, HAND_HZ, HAND_ZOOM, HAND_ROLL_DEG, HAND_SHAKE, HAND_SHAKE_HZ = 0.03, (0.13, 0.55), 0.03, 2.0, 0.003, 3.1
HAND_BASE_ZOOM = 1.04
COVER_EVERY_S = 2.0
WALKER = ROOT.parent / "shared" / "media" / "negative" / "neg_sports2d_woman_walking_side.mp4"
# The walker's height as a share of the subject's, and the time she takes to cross the picture once.
WALKER_SCALE, WALKER_CROSS_S = 0.8, 7.0
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


def handheld_matrix(t: float, w: int, h: int) -> np.ndarray:
    """The 2x3 similarity that a hand-held phone adds to the picture at time t (smooth, repeatable)."""
    two_pi = 2 * np.pi
    slow, fast = HAND_HZ
    dx = HAND_DRIFT * w * (0.7 * np.sin(two_pi * slow * t) + 0.3 * np.sin(two_pi * fast * t + 1.0))
    dy = HAND_DRIFT * h * (0.6 * np.sin(two_pi * slow * 0.8 * t + 2.0) + 0.4 * np.sin(two_pi * fast * 1.3 * t))
    dx += HAND_SHAKE * w * np.sin(two_pi * HAND_SHAKE_HZ * t)
    dy += HAND_SHAKE * h * np.sin(two_pi * HAND_SHAKE_HZ * 1.2 * t + 0.5)
    zoom = HAND_BASE_ZOOM + HAND_ZOOM * np.sin(two_pi * 0.1 * t + 0.3)
    roll = HAND_ROLL_DEG * np.sin(two_pi * 0.2 * t + 0.7)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), roll, zoom)
    m[:, 2] += (dx, dy)
    return m


class Walker:
    """The walking woman of N8 cut out frame by frame (MediaPipe's segmentation), to paste into another clip."""

    def __init__(self) -> None:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(ROOT / "models" / "pose_landmarker_full.task")),
            running_mode=vision.RunningMode.VIDEO,
            output_segmentation_masks=True,
        )
        self._mp = mp
        self._seg = vision.PoseLandmarker.create_from_options(options)
        self._cap = cv2.VideoCapture(str(WALKER))
        self._ms = 0

    def close(self) -> None:
        self._seg.close()
        self._cap.release()

    def mask(self, frame: np.ndarray) -> np.ndarray | None:
        """The person's mask in a frame (float 0-1), None when nobody is found."""
        self._ms += 33
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        result = self._seg.detect_for_video(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb), self._ms)
        if not result.segmentation_masks:
            return None
        return np.squeeze(result.segmentation_masks[0].numpy_view()).astype(np.float32)

    def next(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The walker's next frame cropped to her mask (BGR, mask), looping the clip."""
        ok, frame = self._cap.read()
        if not ok:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
        mask = self.mask(frame)
        if mask is None or mask.max() < 0.5:
            return None
        ys, xs = np.nonzero(mask > 0.5)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        return frame[y0:y1, x0:x1], mask[y0:y1, x0:x1]

    def paste(self, frame: np.ndarray, t: float, subject: np.ndarray | None, height: float, feet_y: float) -> None:
        """Paste the walker into `frame` behind the subject (whose mask keeps her in front)."""
        cut = self.next()
        if cut is None:
            return
        person, mask = cut
        scale = WALKER_SCALE * height / person.shape[0]
        person = cv2.resize(person, None, fx=scale, fy=scale)
        mask = cv2.resize(mask, (person.shape[1], person.shape[0]))
        h, w = frame.shape[:2]
        phase = (t / WALKER_CROSS_S) % 2.0
        along = phase if phase < 1.0 else 2.0 - phase  # across and back
        x0 = int(along * (w + person.shape[1])) - person.shape[1]
        y0 = int(feet_y - 0.05 * height) - person.shape[0]  # farther away: feet higher in the picture
        fx0, fy0 = max(0, x0), max(0, y0)
        fx1, fy1 = min(w, x0 + person.shape[1]), min(h, y0 + person.shape[0])
        if fx1 <= fx0 or fy1 <= fy0:
            return
        alpha = mask[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None]
        if subject is not None:
            alpha = alpha * (1.0 - subject[fy0:fy1, fx0:fx1, None])
        region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
        mixed = region * (1 - alpha) + person[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0] * alpha
        frame[fy0:fy1, fx0:fx1] = mixed.astype(np.uint8)


def _hide_head(frame: np.ndarray, box: np.ndarray, cover: bool) -> None:
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = np.round(box).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 > x0 and y1 > y0:
        if cover:
            frame[y0:y1, x0:x1] = 128
        else:
            k = max(3, (x1 - x0) // 2 | 1)
            frame[y0:y1, x0:x1] = cv2.GaussianBlur(frame[y0:y1, x0:x1], (k, k), 0)


def subject_extent(path: Path, n_frames: int) -> tuple[float, float]:
    """(height px, feet y px) of the subject, medians over the clip, from the tool's pose."""
    from balance.pose.estimate import estimate_pose

    xy = estimate_pose(path).image_xy
    with np.errstate(all="ignore"):
        height = float(np.nanmedian(np.nanmax(xy[:, :, 1], axis=1) - np.nanmin(xy[:, :, 1], axis=1)))
        feet = float(np.nanmedian(np.nanmax(xy[:, 27:33, 1], axis=1)))
    return height, feet


def draw_clip(exe: str, source: Source, variant: str, out: Path) -> None:
    """Write a variant drawn frame by frame in Python, piped raw into ffmpeg."""
    cap = cv2.VideoCapture(str(source.path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    if source.seconds:
        n = min(n, int(round(source.seconds * fps)))
    boxes = head_boxes(source.path, n) if variant in ("blur", "blurmid", "cover") else None
    walker = Walker() if variant == "walker" else None
    subject = Walker() if variant == "walker" else None  # the same segmentation, on the subject's frames
    height, feet_y = subject_extent(source.path, n) if variant == "walker" else (0.0, 0.0)
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"]
    cmd += ["-s", f"{w}x{h}", "-r", f"{fps:.6f}", "-i", "-", *_encode(18), "-fflags", "+bitexact", str(out)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(n):
        ok, frame = cap.read()
        if not ok:
            break
        t = i / fps
        if boxes is not None:
            hidden = {
                "blur": True,
                "blurmid": n / 3 <= i < 2 * n / 3,
                "cover": int(t // COVER_EVERY_S) % 2 == 1,
            }[variant]
            if hidden:
                _hide_head(frame, boxes[i], cover=variant == "cover")
        elif variant == "handheld":
            frame = cv2.warpAffine(frame, handheld_matrix(t, w, h), (w, h))
        elif walker is not None and subject is not None:
            walker.paste(frame, t, subject.mask(frame), height, feet_y)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    for seg in (walker, subject):
        if seg is not None:
            seg.close()
    if proc.wait() != 0:
        sys.exit(f"ffmpeg failed on {out.name}")
    cap.release()


def make(source: Source, variant: str, out_dir: Path, exe: str) -> Path:
    out = out_dir / variant_name(source, variant)
    if out.is_file():
        return out
    tmp = out.with_suffix(".part.mp4")
    if variant in DRAWN:
        draw_clip(exe, source, variant, tmp)
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
