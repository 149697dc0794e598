"""Two cameras against known truths: the Pose2Sim balancing trial's 3-D reconstruction, offsets known by
construction (one clip trimmed by a known number of frames), and synthetic 2-D sway seen from two directions.

Pose2Sim (sample_videos/sls_pose2sim_balancing_cam01-04.mp4, 4 synchronised 60 fps views; 3-D keypoints in
../shared/media/aux, Y up, metres): for every pair of views, `analyze_pair` with --min-trial-s 1; where it gives
a fused hold, its centre-of-mass traces are compared on both axes with the 3-D reference (the segment model of
measure/body.py on Pose2Sim's keypoints, about the stance ankle, in % of the 3-D leg length) projected on each
camera's horizontal picture axis (from the Qualisys calibration) and signed to the subject's axes (+ml towards
the left hip, +ap along the stance foot's heel-to-toe line): Pearson r and the amplitude ratio (SD of the fused
trace over SD of the reference). The cameras' separation from the calibration is printed beside the estimate.

Offsets: the side (then the front) clip re-encoded without its first k frames; the truth is k / 60 s (the views
are synchronised), and the error is given in frames of the 60 fps clip.

Synthetic: scripts/make_sway_clips.py's sway_left_clean (one sway series) as the front view and
sway_left_other_axis (an independent one) as the side view, fused at their known offset 0 (the generator turns
one photo in the picture plane, so neither pairing nor the movement-based sync apply: this row checks the
fusion and the ellipse formula); the truth ellipse is that of the two injected centre-of-mass traces.

    python benchmarks/two_view.py             # everything (about 10 minutes on 2 cores)
    python benchmarks/two_view.py --markdown  # the tables for benchmarks/README.md
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from balance.errors import BalanceError
from balance.measure.body import centre_of_mass
from balance.measure.sway import prediction_ellipse_area
from balance.pipeline import analyze, analyze_pair
from balance.pose import landmarks as lm
from balance.twoview.fuse import fuse_trial

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
AUX = ROOT.parent / "shared" / "media" / "aux"
TRC = AUX / "pose2sim_balancing_pose3d_0-100_filt_butterworth.trc"
CALIB = AUX / "pose2sim_demo_Calib.qca.txt"
CAMS = ("cam01", "cam02", "cam03", "cam04")
FPS = 60.0
TRIMS = (3, 10)
MIN_TRIAL_S = 1.0
# Pose2Sim keypoints standing in for MediaPipe's landmarks in the segment model (no ears, hands or second toe:
# the head, the wrist and the big toe take their places).
TRC_FOR = {
    "nose": "Nose",
    "left_ear": "Head",
    "right_ear": "Head",
    **{
        f"{s}_{j}": f"{s[0].upper()}{k}"
        for s in lm.SIDES
        for j, k in (
            ("shoulder", "Shoulder"),
            ("elbow", "Elbow"),
            ("wrist", "Wrist"),
            ("pinky", "Wrist"),
            ("index", "Wrist"),
            ("hip", "Hip"),
            ("knee", "Knee"),
            ("ankle", "Ankle"),
            ("heel", "Heel"),
            ("foot_index", "BigToe"),
        )
    },
}


def read_trc(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(times from the first frame, s; keypoint -> (N, 3) metres, Y up)."""
    lines = path.read_text().splitlines()
    names = [n for n in lines[3].split("\t")[2:] if n]
    data = np.array([[float(v) for v in line.split("\t")] for line in lines[5:] if line.strip()])
    xyz = data[:, 2:].reshape(len(data), -1, 3)
    return (data[:, 0] - data[0, 0]) / FPS, {n: xyz[:, i] for i, n in enumerate(names)}


def camera_axes(path: Path) -> dict[str, np.ndarray]:
    """Each camera's picture x axis in the keypoints' frame (Qualisys rotation's first row; Z-up (x, y, z) is the
    keypoints' Y-up (z, x, y)), horizontal and unit length."""
    text = path.read_text()
    out = {}
    for m in re.finditer(r'serial="(cam\d+)".*?<transform ([^/]*)/>', text, re.S):
        a = dict(re.findall(r'(\w+)="([-\d.e]+)"', m.group(2)))
        row = np.array([float(a[f"r1{j}"]) for j in (1, 2, 3)])[[1, 2, 0]]
        h = np.array([row[0], 0.0, row[2]])
        out[m.group(1)] = h / np.linalg.norm(h)
    return out


def reference(t: np.ndarray, kp: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(horizontal centre of mass about the left (stance) ankle in % leg, + left direction, + forward direction)."""
    pts = np.full((len(t), lm.N_LANDMARKS, 3), np.nan)
    for name, key in TRC_FOR.items():
        pts[:, lm.NAMES.index(name)] = kp[key]
    com = centre_of_mass(pts)
    leg = np.median(
        np.linalg.norm(kp["LHip"] - kp["LKnee"], axis=1) + np.linalg.norm(kp["LKnee"] - kp["LAnkle"], axis=1)
    )
    rel = 100 * (com - kp["LAnkle"]) / leg
    left = np.mean(kp["LHip"] - kp["RHip"], axis=0)
    fwd = np.mean(kp["LBigToe"] - kp["LHeel"], axis=0)
    return rel, left * [1, 0, 1], fwd * [1, 0, 1]


def _r_amp(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    return float(np.corrcoef(x, y)[0, 1]), float(np.std(x) / np.std(y))


def pose2sim_pairs() -> list[dict]:
    t_ref, kp = read_trc(TRC)
    com, left, fwd = reference(t_ref, kp)
    axes = camera_axes(CALIB)
    rows = []
    for a, b in itertools.combinations(CAMS, 2):
        row: dict = {"pair": f"{a} + {b}"}
        true_sep = math.degrees(math.acos(abs(float(np.dot(axes[a], axes[b])))))
        row["separation_true_deg"] = round(true_sep, 0)
        try:
            an = analyze_pair(
                SAMPLES / f"sls_pose2sim_balancing_{a}.mp4",
                SAMPLES / f"sls_pose2sim_balancing_{b}.mp4",
                min_trial_s=MIN_TRIAL_S,
            )
        except BalanceError as exc:
            row["result"] = f"refused (exit {exc.exit_code}): {exc.what}"
            rows.append(row)
            continue
        tv = an.two_view
        assert tv is not None
        front = an.clip.path.stem.split("_")[-1]
        side = tv.side.clip.path.stem.split("_")[-1]
        row.update(
            front=front,
            side=side,
            offset_ms=round(1000 * tv.sync.offset_s, 1),
            offset_sd_ms=round(1000 * tv.sync.offset_sd_s, 1),
            sync_r=round(tv.sync.peak_r, 3),
            separation_deg=round(tv.pairing.separation_deg, 0),
            separation_sd_deg=round(tv.pairing.separation_sd_deg, 0),
        )
        ft = tv.trials[0]
        for k, (cam, sign_dir) in enumerate(((front, left), (side, fwd))):
            axis = axes[cam] * np.sign(np.dot(axes[cam], sign_dir))
            ref = np.interp(ft.grid, t_ref, com @ axis)
            r, amp = _r_amp(ft.series["centre_of_mass"][:, k], ref)
            row[f"{('ml', 'ap')[k]}_r"], row[f"{('ml', 'ap')[k]}_amp"] = round(r, 3), round(amp, 2)
        row["window_s"] = f"{ft.from_s:.2f}-{ft.to_s:.2f}"
        row["result"] = "fused"
        rows.append(row)
    return rows


def _trim(src: Path, k: int, dst: Path) -> Path:
    import imageio_ffmpeg

    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-y",
        "-i",
        str(src),
        "-vf",
        f"trim=start_frame={k},setpts=PTS-STARTPTS",
        "-an",
        "-c:v",
        "libx264",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        str(dst),
    ]
    subprocess.run(cmd, check=True)
    return dst


def trimmed_offsets(pairs: list[dict], tmp: Path) -> list[dict]:
    rows = []
    for p in pairs:
        if p["result"] != "fused":
            continue
        front, side = (
            SAMPLES / f"sls_pose2sim_balancing_{p['front']}.mp4",
            SAMPLES / f"sls_pose2sim_balancing_{p['side']}.mp4",
        )
        for k, which in itertools.product(TRIMS, ("side", "front")):
            src = side if which == "side" else front
            cut = _trim(src, k, tmp / f"{src.stem}_minus{k}.mp4")
            truth = k / FPS if which == "side" else -k / FPS
            args = (front, cut) if which == "side" else (cut, side)
            try:
                tv = analyze_pair(*args, min_trial_s=MIN_TRIAL_S).two_view
                assert tv is not None
                off, sd = tv.sync.offset_s, tv.sync.offset_sd_s
                rows.append(
                    {
                        "pair": f"{p['front']} + {p['side']}",
                        "trimmed": f"{which} -{k} frames",
                        "truth_ms": round(1000 * truth, 1),
                        "found_ms": round(1000 * off, 1),
                        "sd_ms": round(1000 * sd, 1),
                        "error_frames": round((off - truth) * FPS, 2),
                    }
                )
            except BalanceError as exc:
                rows.append(
                    {
                        "pair": f"{p['front']} + {p['side']}",
                        "trimmed": f"{which} -{k} frames",
                        "truth_ms": round(1000 * truth, 1),
                        "found_ms": None,
                        "sd_ms": None,
                        "error_frames": None,
                        "refused": exc.what,
                    }
                )
    return rows


def synthetic(tmp: Path, model: str) -> dict:
    # The validation helpers sit beside this script (as benchmarks/accuracy.py imports them); the tests import
    # this module for its 3-D reference only.
    from validation import injected_trace

    front_clip = SAMPLES / "synthetic" / "sway_left_clean.mp4"
    side_clip = tmp / "sway_left_other_axis.mp4"
    if not side_clip.is_file():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "make_sway_clips.py"),
                "--only",
                "sway_left_other_axis",
                "--out",
                str(tmp),
            ],
            check=True,
        )
    front, side = analyze(front_clip, model=model), analyze(side_clip, model=model)
    fused = fuse_trial(front, side, 0, 0, 0.0, 0.0)
    axes = []
    for view, clip in ((front, front_clip), (side, side_clip)):
        # As benchmarks/validation.py: the injected sideways motion of the centre of mass, in the view's own unit.
        truth = json.loads(clip.with_suffix(".truth.json").read_text())
        m = view.trials[0]
        full = np.arange(len(truth["theta_deg"])) / truth["fps"]
        x = injected_trace(truth, "centre_of_mass", full, truth["fps"]) / m.scale.image_per_unit
        axes.append(np.interp(fused.grid, full[: len(x)], x))
    truth_xy = np.column_stack(axes)
    fused_xy = fused.series["centre_of_mass"]
    com = fused.traces[0]
    area_true = prediction_ellipse_area(truth_xy)
    assert com.ellipse_area_95 is not None
    r = [abs(float(np.corrcoef(fused_xy[:, k], truth_xy[:, k])[0, 1])) for k in (0, 1)]
    amp = [float(np.std(fused_xy[:, k]) / np.std(truth_xy[:, k])) for k in (0, 1)]
    return {
        "model": model,
        "window_s": f"{fused.from_s:.1f}-{fused.to_s:.1f}",
        "area_found": round(com.ellipse_area_95, 2),
        "area_true": round(area_true, 2),
        "area_error_pct": round(100 * (com.ellipse_area_95 / area_true - 1), 1),
        "ml_r": round(r[0], 3),
        "ml_amp": round(amp[0], 3),
        "ap_r": round(r[1], 3),
        "ap_amp": round(amp[1], 3),
        # What the fusion adds once each view's own amplitude error (benchmarks/README.md, accuracy.py) is out.
        "area_error_given_axes_pct": round(100 * (com.ellipse_area_95 / (amp[0] * amp[1]) / area_true - 1), 1),
    }


def _table(rows: list[dict], keys: list[str]) -> str:
    head = "| " + " | ".join(keys) + " |\n|" + "---|" * len(keys) + "\n"
    return head + "\n".join(
        "| " + " | ".join("" if r.get(k) is None else str(r.get(k)) for k in keys) + " |" for r in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the tables for benchmarks/README.md")
    parser.add_argument("--part", choices=("all", "pose2sim", "synthetic"), default="all", help="what to run")
    parser.add_argument(
        "--work", type=Path, help="keep the trimmed and generated clips here (default: a temporary folder)"
    )
    args = parser.parse_args()
    if not TRC.is_file():
        raise SystemExit(f"two_view: the 3-D reference is missing ({TRC})")
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        pairs = pose2sim_pairs() if args.part != "synthetic" else []
        offsets = trimmed_offsets(pairs, work)
        synth = [synthetic(work, m) for m in ("full", "lite")] if args.part != "pose2sim" else []
    if args.markdown:
        print(
            _table(
                pairs,
                [
                    "pair",
                    "result",
                    "front",
                    "side",
                    "separation_true_deg",
                    "separation_deg",
                    "separation_sd_deg",
                    "sync_r",
                    "window_s",
                    "ml_r",
                    "ml_amp",
                    "ap_r",
                    "ap_amp",
                ],
            )
        )
        print()
        print(_table(offsets, ["pair", "trimmed", "truth_ms", "found_ms", "sd_ms", "error_frames"]))
        print()
        if synth:
            print(_table(synth, list(synth[0])))
    else:
        print(json.dumps({"pairs": pairs, "offsets": offsets, "synthetic": synth}, indent=1))
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
