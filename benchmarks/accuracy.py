"""Accuracy of the whole pipeline on clips with a known, injected sway, per pose model, beside its speed.

Reports recovered vs injected sway (amplitude, RMS, velocity; correlation), the noise floor of a motionless
clip, the score's spread under independent camera noise (its SEM and MDC), and frames per second.

    python benchmarks/accuracy.py                      # lite and full
    python benchmarks/accuracy.py --models lite full heavy --renders 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from validation import POINTS, compare

from balance.config import settings
from balance.pipeline import Analysis, analyze
from balance.pose.models import DEFAULT_MAX_FPS

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = ROOT / "sample_videos" / "synthetic"
CLIPS = ("sway_left_clean", "sway_right_clean", "sway_left_noisy", "sway_left_large")
NOISE_FLOOR = "still_noise_floor"
# The photo's subject is not measured; a typical adult height turns pixels into centimetres for the
# comparison with norms (the relative errors do not depend on it).
HEIGHT_CM = 165.0
# Healthy single-leg sway for the noise-floor comparison: the one-legged-stance velocity cut-offs of
# Oliveira et al. 2018 (PLoS One 13:e0203887): 3.4 cm/s medio-lateral (the axis a front view measures).
NORM_VELOCITY_CM_S = 3.4


def noisy_render(src: Path, dst: Path, seed: int, sigma: float = 4.0) -> Path:
    """The clean clip with fresh camera noise and mp4v compression: a re-test of the same sway."""
    rng = np.random.default_rng(seed)
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    writer = None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
        writer.write(np.clip(frame + rng.normal(0, sigma, frame.shape), 0, 255).astype(np.uint8))
    cap.release()
    if writer is not None:
        writer.release()
    return dst


def timed(path: Path, model: str, max_fps: float) -> tuple[Analysis, float]:
    start = time.perf_counter()
    result = analyze(path, model=model, height_cm=HEIGHT_CM, use_cache=False, max_fps=max_fps)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["lite", "full"])
    parser.add_argument("--renders", type=int, default=3, help="noisy re-renders for the score's SEM")
    parser.add_argument("--max-fps", type=float, default=DEFAULT_MAX_FPS, help="analysis rate (frames a second)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    for model in args.models:
        if model == "heavy" and not (settings().models_dir / "pose_landmarker_heavy.task").is_file():
            print("heavy: not built (python scripts/build_models.py --heavy); skipped")
            continue
        row: dict = {"clips": {}}
        frames = seconds = 0.0
        for name in CLIPS:
            truth = json.loads((SYNTHETIC / f"{name}.truth.json").read_text())
            analysis, wall = timed(SYNTHETIC / f"{name}.mp4", model, args.max_fps)
            frames += len(analysis.track)
            seconds += wall
            row["clips"][name] = {p: a.__dict__ for p, a in compare(analysis, truth).items()}
            row["clips"][name]["score"] = analysis.assessments[0].score.value
            row["clips"][name]["dominant"] = analysis.assessments[0].decomposition.dominant
        still, _ = timed(SYNTHETIC / f"{NOISE_FLOOR}.mp4", model, args.max_fps)
        floor = next(m for m in still.trials[0].observed if m.name == "centre_of_mass").mean_velocity
        row["noise_floor_cm_s"] = floor
        row["noise_floor_share_of_norm"] = floor / NORM_VELOCITY_CM_S
        scores = [row["clips"]["sway_left_clean"]["score"], row["clips"]["sway_left_noisy"]["score"]]
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(args.renders):
                clip = noisy_render(SYNTHETIC / "sway_left_clean.mp4", Path(tmp) / f"render{seed}.mp4", seed)
                scores.append(timed(clip, model, args.max_fps)[0].assessments[0].score.value)
        sem = statistics.stdev(scores)
        row["score_retest"] = {"scores": scores, "sem": sem, "mdc95": 1.96 * 2**0.5 * sem}
        row["ms_per_frame"] = 1000 * seconds / frames
        results[model] = row
        print_model(f"{model} at {args.max_fps:g} fps", row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def print_model(model: str, row: dict) -> None:
    print(f"\n== {model}: {row['ms_per_frame']:.1f} ms per frame for the whole pipeline (wall, 2 workers) ==")
    print(f"{'clip':18s} {'point':16s} {'amp ratio':>9s} {'RMS err':>8s} {'vel err':>8s} {'r':>6s} {'r@lag':>6s} lag")
    for name, clip in row["clips"].items():
        for point in POINTS:
            a = clip[point]
            print(
                f"{name:18s} {point:16s} {a['amplitude_ratio']:9.3f} {a['rms_error']:+8.1%} "
                f"{a['velocity_error']:+8.1%} {a['r']:6.3f} {a['r_best']:6.3f} {a['lag_frames']:3d}"
            )
        print(f"{'':18s} score {clip['score']:.1f}, dominant segment: {clip['dominant']}")
    print(
        f"noise floor: centre-of-mass velocity {row['noise_floor_cm_s']:.2f} cm/s = "
        f"{row['noise_floor_share_of_norm']:.0%} of the {NORM_VELOCITY_CM_S} cm/s one-leg norm (target < 10 %)"
    )
    rt = row["score_retest"]
    print(f"score re-test: {', '.join(f'{s:.1f}' for s in rt['scores'])}; SEM {rt['sem']:.2f}, MDC95 {rt['mdc95']:.1f}")


if __name__ == "__main__":
    sys.exit(main())
