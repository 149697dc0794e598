"""Build MediaPipe PoseLandmarker `.task` bundles (lite, full, heavy) from registry packages.

Runs in a throw-away virtual environment so the project's own environment never sees
mediapipe 0.10.21; see models/README.md for provenance, licence and verification.

    python scripts/build_models.py                # lite + full into models/
    python scripts/build_models.py --heavy        # also the 30 MB heavy bundle
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

MEDIAPIPE_WHEEL = "mediapipe==0.10.21"
NPM_POSE = "@mediapipe/pose@0.5.1675469404"
ROOT = Path(__file__).resolve().parents[1]

# The legacy Pose graph feeds the detector [-1, 1] (mean 127.5, std 127.5) and the landmark
# network [0, 1] (mean 0, std 255): mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt
# and pose_landmark/pose_landmark_by_roi_cpu.pbtxt (ImageToTensorCalculator output ranges).
DETECTOR_NORM = (127.5, 127.5)
LANDMARK_NORM = (0.0, 255.0)
# A fixed timestamp keeps the zip bytes, and so the SHA-256, identical across builds.
ZIP_DATE = (2023, 2, 3, 0, 0, 0)
ZIP_ALIGN = 64
VARIANTS = ("lite", "full", "heavy")  # legacy Pose model_complexity 0, 1, 2
VERIFY_PHOTOS = tuple(
    ROOT / "sample_videos" / name
    for name in ("pos_tfexamples_image3_tree_pose_pixabay.jpeg", "neg_tfexamples_image2_standing_man_pixabay.jpeg")
)


def with_metadata(model: bytes, norm: tuple[float, float], name: str) -> bytes:
    """Add image-input normalisation and one feature output per output tensor (inner env only)."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, "MediaPipe BlazePose, repackaged by balance/scripts")
    writer.add_image_input(norm_mean=[norm[0]], norm_std=[norm[1]])
    for _ in writer_utils.get_output_tensor_names(bytearray(model)):
        writer.add_feature_output()
    content, _ = writer.populate()
    return bytes(content)


def write_bundle(path: Path, detector: bytes, landmarks: bytes) -> None:
    tmp = path.with_suffix(".partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
        for name, data in (("pose_detector.tflite", detector), ("pose_landmarks_detector.tflite", landmarks)):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.extra = alignment_padding(zf.fp.tell(), name)  # type: ignore[union-attr]
            zf.writestr(info, data)
    tmp.replace(path)


def alignment_padding(offset: int, name: str) -> bytes:
    """Zip extra field that puts the member's data on a 64-byte boundary, as Android's zipalign
    does, so MediaPipe can memory-map the tensors instead of copying unaligned buffers."""
    start = offset + 30 + len(name) + 4  # local header, file name, extra-field header
    pad = -start % ZIP_ALIGN
    return (0xD935).to_bytes(2, "little") + pad.to_bytes(2, "little") + bytes(pad)


def inner(wheel_site: Path, npm_dir: Path, out: Path, variants: list[str]) -> None:
    detector_raw = (wheel_site / "mediapipe/modules/pose_detection/pose_detection.tflite").read_bytes()
    detector = with_metadata(detector_raw, DETECTOR_NORM, "pose_detector")
    for variant in variants:
        raw = (npm_dir / f"pose_landmark_{variant}.tflite").read_bytes()
        bundle = out / f"pose_landmarker_{variant}.task"
        write_bundle(bundle, detector, with_metadata(raw, LANDMARK_NORM, f"pose_landmarks_{variant}"))
        # The legacy graph looks for its landmark model beside its own files (it would download lite/heavy).
        shutil.copy(npm_dir / f"pose_landmark_{variant}.tflite", wheel_site / "mediapipe/modules/pose_landmark")
        print(f"{bundle.name}  sha256 {hashlib.sha256(bundle.read_bytes()).hexdigest()}")
        for photo in VERIFY_PHOTOS:
            print(f"  {photo.name}: {verify(bundle, variant, photo)}")


def verify(bundle: Path, variant: str, photo: Path) -> str:
    """Compare the bundle (Tasks API) with mediapipe 0.10.21's legacy Pose graph on a real photo."""
    import cv2
    import mediapipe as mp
    import numpy as np
    from mediapipe.tasks.python import BaseOptions, vision

    rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=VARIANTS.index(variant)) as pose:
        legacy = pose.process(rgb)
    options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(bundle)))
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        task = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
    if not task.pose_landmarks or legacy.pose_landmarks is None:
        raise SystemExit(f"verification failed: no pose found in {photo.name}")

    def arr(points, scale) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.array([[getattr(p, a) * s for a, s in zip("xyz", scale, strict=False)] for p in points])

    img = np.abs(arr(task.pose_landmarks[0], (w, h)) - arr(legacy.pose_landmarks.landmark, (w, h))).max()
    world = np.abs(arr(task.pose_world_landmarks[0], (1, 1, 1)) - arr(legacy.pose_world_landmarks.landmark, (1, 1, 1)))
    return f"world landmarks max |diff| {1000 * world.max():.2f} mm, image landmarks max |diff| {img:.2f} px"


def outer(variants: list[str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="balance-models-") as tmpdir:
        tmp = Path(tmpdir)
        print(f"throw-away environment in {tmp} ({MEDIAPIPE_WHEEL}, {NPM_POSE})", flush=True)
        venv.create(tmp / "venv", with_pip=True)
        py = tmp / "venv/bin/python"
        subprocess.run([str(py), "-m", "pip", "install", "-q", MEDIAPIPE_WHEEL], check=True)
        subprocess.run(["npm", "pack", "--silent", NPM_POSE], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        with tarfile.open(next(tmp.glob("mediapipe-pose-*.tgz"))) as tf:
            tf.extractall(tmp / "npm", filter="data")
        site = subprocess.run(
            [str(py), "-c", "import mediapipe, pathlib; print(pathlib.Path(mediapipe.__file__).parents[1])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        subprocess.run([str(py), __file__, "--inner", site, str(tmp / "npm/package"), str(out), *variants], check=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        site, npm_dir, out, *variants = sys.argv[2:]
        inner(Path(site), Path(npm_dir), Path(out), variants)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heavy", action="store_true", help="also build the 30 MB heavy bundle")
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    outer(["lite", "full"] + (["heavy"] if args.heavy else []), args.out.resolve())


if __name__ == "__main__":
    main()
