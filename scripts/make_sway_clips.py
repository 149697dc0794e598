"""Generate validation clips with a known injected single-leg-stance sway from one tree-pose photo.
The person is cut out and turned about the stance ankle over a clean plate; each clip gets a truth JSON.

    python scripts/make_sway_clips.py                              # all clips into sample_videos/synthetic/
    python scripts/make_sway_clips.py --only sway_left_clean --seconds 5 --out /tmp/sway
    python scripts/make_sway_clips.py --check                      # also track the clips and print agreement
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# Set before mediapipe is imported: the C++ side reads these once, at load time.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

if TYPE_CHECKING:
    import mediapipe as mp
    from mediapipe.tasks.python import vision

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "sample_videos" / "pos_tfexamples_image3_tree_pose_pixabay.jpeg"
MODEL = ROOT / "models" / "pose_landmarker_full.task"
DEFAULT_OUT = ROOT / "sample_videos" / "synthetic"
FPS = 30
SECONDS = 30.0
SEED = 20240611

# The photo's subject stands on her LEFT leg; MediaPipe index 27 is the left ankle (28 the right).
STANCE_ANKLE = 27
MIRRORED_STANCE_ANKLE = 28

# Angle model: a slow drift plus small fast corrections, each a sum of sinusoids with amplitudes ~ 1/f
# (sway spectra fall with frequency). Band edges are split log-evenly, one sinusoid per sub-band, so
# the spectrum covers 0.1-3 Hz without gaps. RMS values are set analytically (sum A^2 / 2), so the
# series does not depend on the clip length and a --seconds run is a prefix of the full one.
DRIFT_BAND_HZ = (0.1, 0.5)
DRIFT_COMPONENTS = 4
DRIFT_RMS_DEG = 0.8
CORRECTION_BAND_HZ = (0.5, 3.0)
CORRECTION_COMPONENTS = 10
CORRECTION_RMS_DEG = 0.3

# Mask handling. The segmentation mask is nearly binary; holes inside the silhouette (the lifted foot
# against the thigh reads ~0.6) are body, so they are filled or they would stay behind as the body moves.
MASK_FEATHER_SIGMA_PX = 1.0  # softens the cut edge so it does not alias when rotated
MASK_GROW_PX = 1  # covers the one-pixel rim the model leaves soft
# The plate is refilled a little beyond the mask so no skin or cloth fringe stays behind; not more, since
# outside the person the clip should show the photo's own background, untouched.
PLATE_GROW_PX = 4
PLATE_BLUR_PX = (1.0, 2.0)  # x, y

FFMPEG_MISSING = (
    "make_sway_clips: the ffmpeg binary from the PyPI package imageio-ffmpeg is needed: pip install imageio-ffmpeg"
)

CREDIT = {
    "photo": "sample_videos/pos_tfexamples_image3_tree_pose_pixabay.jpeg",
    "from": "tensorflow/examples @ 608f7db8, "
    "lite/examples/pose_estimation/raspberry_pi/test_data/image3.jpeg (Apache-2.0 repository)",
    "original": "Pixabay, tree-pose-yoga-yogini-lifestyle-4823155 (Pixabay Content Licence)",
    "terms": "the derived clips keep the photo's terms",
}


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    mirror: bool  # flip the finished frame horizontally: right-leg stance
    gain: float  # multiplies the base angle series; 0 = no motion
    noise_sigma: float  # Gaussian camera noise per frame, grey levels
    crf: int  # libx264 constant rate factor: higher = stronger compression
    # Another angle series (another seed) for the second camera of a two-view pair: the other axis's sway.
    seed: int = SEED


# CRF 21 keeps a 30 s clean clip under ~3 MB with no visible loss; 29 is a strong phone-like compression.
VARIANTS = (
    Variant("sway_left_clean", "left-leg stance, base sway, no added noise", False, 1.0, 0.0, 21),
    Variant("sway_right_clean", "sway_left_clean mirrored: right-leg stance", True, 1.0, 0.0, 21),
    Variant("sway_left_noisy", "sway_left_clean + camera noise + strong compression", False, 1.0, 4.0, 29),
    Variant("still_noise_floor", "no motion (theta = 0), camera noise + compression", False, 0.0, 4.0, 29),
    Variant("sway_left_large", "left-leg stance, base sway x 2, no added noise", False, 2.0, 0.0, 21),
    Variant(
        "sway_left_other_axis",
        "left-leg stance, an independent sway series (seed + 1): the second camera's axis of a two-view pair",
        False,
        1.0,
        0.0,
        21,
        SEED + 1,
    ),
)


def sinusoids(rng: np.random.Generator, band: tuple[float, float], n: int, rms: float) -> list[dict]:
    """One sinusoid per log-even sub-band, amplitude ~ 1/f, scaled to the requested RMS."""
    edges = np.geomspace(band[0], band[1], n + 1)
    freqs = rng.uniform(edges[:-1], edges[1:])
    phases = rng.uniform(0.0, 2.0 * math.pi, n)
    amps = 1.0 / freqs
    amps *= rms / math.sqrt(float(np.sum(amps**2)) / 2.0)
    return [
        {"freq_hz": float(f), "amp_deg": float(a), "phase_rad": float(p)}
        for f, a, p in zip(freqs, amps, phases, strict=True)
    ]


def angle_model(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "formula": "theta(t) = gain * sum_k amp_deg_k * sin(2 pi freq_hz_k t + phase_rad_k), t = frame / fps",
        "seed": seed,
        "drift": sinusoids(rng, DRIFT_BAND_HZ, DRIFT_COMPONENTS, DRIFT_RMS_DEG),
        "corrections": sinusoids(rng, CORRECTION_BAND_HZ, CORRECTION_COMPONENTS, CORRECTION_RMS_DEG),
    }


def theta_series(model: dict, n_frames: int, gain: float) -> np.ndarray:
    t = np.arange(n_frames) / FPS
    theta = np.zeros(n_frames)
    for c in model["drift"] + model["corrections"]:
        theta += c["amp_deg"] * np.sin(2.0 * math.pi * c["freq_hz"] * t + c["phase_rad"])
    return gain * theta + 0.0  # + 0.0: gain 0 gives 0.0, not -0.0, in the truth file


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """Mute the C++ log lines (TFLite delegate, absl) that MediaPipe writes straight to fd 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def landmarker(video: bool, masks: bool = False) -> vision.PoseLandmarker:
    from mediapipe.tasks.python import BaseOptions, vision

    mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(MODEL)),
        running_mode=mode,
        output_segmentation_masks=masks,
    )
    return vision.PoseLandmarker.create_from_options(options)


def as_mp_image(bgr: np.ndarray) -> mp.Image:
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(bgr[..., ::-1]))


def detect_image(bgr: np.ndarray, masks: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Landmarks (33 x 2, pixels), visibility (33,) and optionally the person mask, IMAGE mode."""
    h, w = bgr.shape[:2]
    with quiet_stderr(), landmarker(video=False, masks=masks) as lm:
        result = lm.detect(as_mp_image(bgr))
    if not result.pose_landmarks:
        raise SystemExit("make_sway_clips: no pose found in the photo")
    pts = np.array([[p.x * w, p.y * h] for p in result.pose_landmarks[0]])
    vis = np.array([p.visibility for p in result.pose_landmarks[0]])
    mask = result.segmentation_masks[0].numpy_view()[..., 0].copy() if masks else None
    return pts, vis, mask


def fill_holes(binary: np.ndarray) -> np.ndarray:
    """Everything not reachable from the border through background is person."""
    h, w = binary.shape
    flood = binary.astype(np.uint8) * 255
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = flood
    cv2.floodFill(padded, None, (0, 0), 128)
    return padded[1:-1, 1:-1] != 128


@dataclass
class Layers:
    person_premult: np.ndarray  # float32 BGR * alpha, so rotation does not bleed background into the edge
    alpha: np.ndarray  # float32 0..1
    plate: np.ndarray  # float32 BGR, person inpainted away
    pivot_px: tuple[float, float]  # stance ankle, MediaPipe pixel convention (0 = the frame's left edge)


def build_layers(photo: np.ndarray) -> Layers:
    pts, _, mask = detect_image(photo, masks=True)
    assert mask is not None
    solid = fill_holes(mask > 0.5)
    # Opaque inside the silhouette; keep the model's soft values at the rim (hair), drop its faint haze.
    alpha = np.where(solid, 1.0, np.where(mask > 0.05, mask, 0.0)).astype(np.float32)
    alpha = cv2.dilate(alpha, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * MASK_GROW_PX + 1,) * 2))
    alpha = np.clip(cv2.GaussianBlur(alpha, (0, 0), MASK_FEATHER_SIGMA_PX), 0.0, 1.0)
    alpha[solid] = 1.0

    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * PLATE_GROW_PX + 1,) * 2)
    hole = cv2.dilate((alpha > 0.01).astype(np.uint8), grow) > 0
    plate = clean_plate(photo, hole)

    person = photo.astype(np.float32)
    return Layers(
        person_premult=person * alpha[..., None],
        alpha=alpha,
        plate=plate.astype(np.float32),
        # Rounded as the truth file stores it, so the stored pivot is the one the frames were turned about.
        pivot_px=(round(float(pts[STANCE_ANKLE, 0]), 4), round(float(pts[STANCE_ANKLE, 1]), 4)),
    )


def clean_plate(photo: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Fill the hole row by row, interpolating between the background on either side.

    The scene behind her is mostly horizontal (railing bars, horizon, floor edge), so row-wise
    interpolation continues it where a rotation uncovers a sliver; Telea/FSR inpainting smear radially
    instead. A light vertical blur inside the hole hides the row-to-row streaks.
    """
    plate = photo.astype(np.float32)
    xs = np.arange(photo.shape[1])
    for y in np.flatnonzero(hole.any(axis=1)):
        bad = hole[y]
        if bad.all():
            continue
        for c in range(3):
            plate[y, bad, c] = np.interp(xs[bad], xs[~bad], plate[y, ~bad, c])
    soft = cv2.GaussianBlur(plate, (0, 0), sigmaX=PLATE_BLUR_PX[0], sigmaY=PLATE_BLUR_PX[1])
    return np.where(hole[..., None], soft, plate)


def rotation(pivot_px: tuple[float, float], theta_deg: float) -> np.ndarray:
    """Affine (source -> frame) turning the body's top to the image right for positive theta.

    OpenCV warps in pixel-centre coordinates (the first pixel's centre is 0), MediaPipe's pixel
    coordinates put 0 at the left edge: the pivot is shifted by half a pixel to match.
    """
    cx, cy = pivot_px[0] - 0.5, pivot_px[1] - 0.5
    # getRotationMatrix2D turns counter-clockwise on screen for a positive angle; we want clockwise.
    return cv2.getRotationMatrix2D((cx, cy), -theta_deg, 1.0)


def render(layers: Layers, theta_deg: float) -> np.ndarray:
    """The clean composite (float32 BGR) with the person rotated about the stance ankle."""
    h, w = layers.alpha.shape
    m = rotation(layers.pivot_px, theta_deg)
    flags = cv2.INTER_LINEAR
    person = cv2.warpAffine(layers.person_premult, m, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    alpha = cv2.warpAffine(layers.alpha, m, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    return person + layers.plate * (1.0 - alpha[..., None])


def to_uint8(frame: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise SystemExit(FFMPEG_MISSING) from None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        raise SystemExit(FFMPEG_MISSING) from None


def encoder_args(crf: int) -> list[str]:
    # -g 30: a key frame every second keeps seeking cheap; the bitexact flags and one thread make the
    # bytes repeatable (no encoder version string, no creation time, no thread-dependent decisions).
    return [
        "-c:v", "libx264", "-preset", "slow", "-crf", str(crf), "-g", "30", "-pix_fmt", "yuv420p",
        "-threads", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-movflags", "+faststart",
    ]  # fmt: skip


def write_clip(path: Path, frames: Iterator[np.ndarray], size: tuple[int, int], crf: int) -> None:
    w, h = size
    tmp = path.with_suffix(".partial")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", str(FPS), "-i", "-",
        "-an", *encoder_args(crf), "-f", "mp4", str(tmp),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for frame in frames:
            proc.stdin.write(frame.tobytes())
    finally:
        proc.stdin.close()
        rc = proc.wait()
    if rc != 0:
        tmp.unlink(missing_ok=True)
        raise SystemExit(f"make_sway_clips: ffmpeg failed ({rc}) writing {path.name}")
    tmp.replace(path)


def summary(theta: np.ndarray) -> dict:
    vel = np.abs(np.diff(theta)) * FPS if theta.size > 1 else np.zeros(1)
    return {
        "rms_deg": round(float(np.sqrt(np.mean(theta**2))), 4),
        "std_deg": round(float(np.std(theta)), 4),
        "mean_deg": round(float(np.mean(theta)), 4),
        "min_deg": round(float(np.min(theta)), 4),
        "max_deg": round(float(np.max(theta)), 4),
        "range_deg": round(float(np.ptp(theta)), 4),
        "mean_abs_velocity_deg_s": round(float(np.mean(vel)), 4),
    }


def make_variant(v: Variant, layers: Layers, model: dict, n_frames: int, out: Path) -> Path:
    h, w = layers.alpha.shape
    model = model if v.seed == SEED else angle_model(v.seed)
    base = theta_series(model, n_frames, v.gain)
    # Mirroring turns a clockwise turn into an anticlockwise one, so the truth angle changes sign.
    theta = -base if v.mirror else base
    rng = np.random.default_rng([SEED, VARIANTS.index(v)])  # noise differs per clip, same on every run

    def frames() -> Iterator[np.ndarray]:
        for angle in base:
            frame = render(layers, float(angle))
            if v.noise_sigma > 0:
                frame = frame + rng.normal(0.0, v.noise_sigma, frame.shape).astype(np.float32)
            img = to_uint8(frame)
            yield np.ascontiguousarray(img[:, ::-1]) if v.mirror else img

    video = out / f"{v.name}.mp4"
    write_clip(video, frames(), (w, h), v.crf)

    # Landmarks of the noise-free theta = 0 frame as this clip shows it (mirrored for the right stance),
    # so the labels (27 vs 28) are the ones a tracker will report for this clip.
    still = to_uint8(render(layers, 0.0))
    if v.mirror:
        still = np.ascontiguousarray(still[:, ::-1])
    pts, vis, _ = detect_image(still)
    px, py = layers.pivot_px
    pivot = (w - px, py) if v.mirror else (px, py)

    truth = {
        "name": v.name,
        "video": video.name,
        "description": v.description,
        "fps": FPS,
        "n_frames": int(n_frames),
        "width": w,
        "height": h,
        "stance_leg": "right" if v.mirror else "left",
        "stance_ankle_landmark": MIRRORED_STANCE_ANKLE if v.mirror else STANCE_ANKLE,
        "pixel_convention": "x to the right, y down, in pixels of this frame; 0 is the frame's left/top edge "
        "(MediaPipe normalised coordinates times width/height)",
        "pivot_px": [round(pivot[0], 6), round(pivot[1], 6)],
        "angle_convention": "theta_deg > 0: the body's top moves to the image right (clockwise on screen). "
        "A point at q when theta = 0 is at p + R(theta) (q - p), p = pivot_px, "
        "R = [[cos, -sin], [sin, cos]] in these (x right, y down) axes; the whole person layer, "
        "stance foot included, turns rigidly",
        "theta_deg": [round(float(a), 6) for a in theta],
        "amplitude": summary(theta),
        "landmarks_theta0_px": [[round(float(x), 3), round(float(y), 3)] for x, y in pts],
        "landmarks_theta0_visibility": [round(float(s), 3) for s in vis],
        "landmarks_theta0_source": "pose_landmarker_full.task, IMAGE mode, on the noise-free theta = 0 frame",
        "generator": {
            "script": "scripts/make_sway_clips.py",
            "seed": SEED,
            "variant": asdict(v),
            "angle_model": model,
            "angle_sign_in_truth": -1 if v.mirror else 1,
            "encoder": ["libx264", *encoder_args(v.crf)[2:]],
            "mask": {
                "feather_sigma_px": MASK_FEATHER_SIGMA_PX,
                "grow_px": MASK_GROW_PX,
                "plate_grow_px": PLATE_GROW_PX,
                "plate": "row-wise linear interpolation across the grown mask, Gaussian blur inside it",
                "plate_blur_px_xy": PLATE_BLUR_PX,
            },
        },
        "source": CREDIT,
    }
    # One key per line, each value on a single line: readable, and diffs stay small.
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(val)}" for k, val in truth.items())
    (out / f"{v.name}.truth.json").write_text("{\n" + body + "\n}\n")
    return video


def track(video: Path) -> np.ndarray:
    """Per-frame landmarks (n x 33 x 2 pixels, NaN where no pose), VIDEO mode, full model."""
    cap = cv2.VideoCapture(str(video))
    rows: list[np.ndarray] = []
    with quiet_stderr(), landmarker(video=True) as lm:
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            result = lm.detect_for_video(as_mp_image(frame), round(i * 1000 / FPS))
            if result.pose_landmarks:
                rows.append(np.array([[p.x * w, p.y * h] for p in result.pose_landmarks[0]]))
            else:
                rows.append(np.full((33, 2), np.nan))
            i += 1
    cap.release()
    return np.array(rows)


def predicted(truth: dict) -> np.ndarray:
    """The exact pixel trajectory of every theta = 0 landmark: n x 33 x 2."""
    p = np.array(truth["pivot_px"])
    q = np.array(truth["landmarks_theta0_px"]) - p
    th = np.radians(np.array(truth["theta_deg"]))[:, None]
    c, s = np.cos(th), np.sin(th)
    x = c * q[None, :, 0] - s * q[None, :, 1]
    y = s * q[None, :, 0] + c * q[None, :, 1]
    return np.stack([x, y], axis=-1) + p


def best_lag(tracked: np.ndarray, truth: np.ndarray, max_lag: int = 10) -> tuple[int, float]:
    """Frames by which the tracked series trails the truth, and r once shifted back by that much."""
    n = len(truth)
    scores = [
        (float(np.corrcoef(tracked[lag : n - max_lag + lag], truth[: n - max_lag])[0, 1]), lag)
        for lag in range(max_lag + 1)
    ]
    r, lag = max(scores)
    return lag, r


def check(out: Path, names: list[str]) -> None:
    for name in names:
        truth = json.loads((out / f"{name}.truth.json").read_text())
        got = track(out / f"{name}.mp4")
        want = predicted(truth)[: len(got)]
        lost = int(np.isnan(got[:, 0, 0]).sum())
        line = [f"{name}: {len(got)} frames, {lost} without a pose"]
        for label, idx in (("hip", (23, 24)), ("shoulder", (11, 12))):
            gx = np.nanmean(got[:, idx, 0], axis=1)
            wx = want[:, idx, 0].mean(axis=1)
            ok = ~np.isnan(gx)
            gx, wx = gx[ok], wx[ok]
            if np.std(wx) < 1e-9:
                line.append(f"{label} centre x: std {np.std(gx):.3f} px, range {np.ptp(gx):.2f} px")
                continue
            r = float(np.corrcoef(gx, wx)[0, 1])
            ratio = float(np.std(gx) / np.std(wx))
            slope = float(np.polyfit(wx, gx, 1)[0])
            lag, r_lag = best_lag(gx, wx)
            line.append(
                f"{label} centre x: r {r:.4f}, amplitude ratio (std) {ratio:.3f}, slope {slope:.3f}, "
                f"truth std {np.std(wx):.2f} px; tracker lag {lag} frames, r at that lag {r_lag:.4f}"
            )
        print("\n  ".join(line))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--only", choices=[v.name for v in VARIANTS], action="append", help="make this clip")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="clip length")
    parser.add_argument("--check", action="store_true", help="track the clips made and print agreement")
    args = parser.parse_args()

    ffmpeg_exe()  # fail before the slow part
    variants = [v for v in VARIANTS if not args.only or v.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    photo = cv2.imread(str(PHOTO))
    if photo is None:
        raise SystemExit(f"make_sway_clips: cannot read {PHOTO}")
    layers = build_layers(photo)
    model = angle_model(SEED)
    n_frames = round(args.seconds * FPS)
    for v in variants:
        video = make_variant(v, layers, model, n_frames, args.out)
        print(f"{video} {video.stat().st_size / 1e6:.2f} MB")
    if args.check:
        check(args.out, [v.name for v in variants])


if __name__ == "__main__":
    main()
