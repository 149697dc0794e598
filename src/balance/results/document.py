"""Present an `Analysis`: the JSON document (versioned schema), the per-frame CSV and the terminal summary.

Files are written atomically, all or nothing: a failed or interrupted run leaves no partial result.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from balance import __version__
from balance.assess.assessment import Assessment
from balance.errors import ResultsError
from balance.files import staged
from balance.measure.body import centre_of_mass
from balance.measure.sway import CONVENTIONS, TraceMetrics
from balance.measure.trial import AXIS_WORDS, FILTER_NOTE, SwayMetrics
from balance.pipeline import Analysis
from balance.pose.landmarks import NAMES
from balance.stance.trials import MIN_TRIAL_S

SCHEMA_VERSION = "1.0"

UNIT_WORDS = {"cm": "cm", "%leg": "% of leg length"}
MEANINGS = {
    "centre_of_mass": "whole-body centre of mass (14-segment model, Winter 2009) relative to the stance ankle",
    "hip_centre": "midpoint of the hips relative to the stance ankle",
    "shoulder_centre": "midpoint of the shoulders relative to the stance ankle",
    "stance_foot": "centre of the stance foot (heel, ankle, toe) in the picture, about its own mean",
    "trunk_lean": "angle of the hip-to-shoulder line from vertical, in the picture",
    "pelvic_tilt": "free-side hip above (+) or below (-) the stance-side hip, in the picture",
}


def _trial_end(analysis: Analysis, m: SwayMetrics) -> str:
    if m.trial.touch_down_s is not None:
        return "touch_down"
    last = analysis.track.t[-1]
    return "clip_end" if m.trial.end_s >= last - 1e-6 else "subject_lost"


def to_json(analysis: Analysis) -> dict[str, Any]:
    clip, track = analysis.clip, analysis.track
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "balance", "version": __version__},
        "clip": {
            "path": str(clip.path),
            "sha256": clip.sha256,
            "width": clip.width,
            "height": clip.height,
            "rotation_deg": clip.rotation_deg,
            "fps_nominal": round(clip.fps_nominal, 3),
            "duration_s": round(clip.duration_s, 3),
            "frames_decoded": track.frames_in_clip,
            "frames_analysed": len(track),
            "analysed_fps": round(track.fps, 3),
            "truncated": track.truncated,
            "timestamps": "container" if track.timestamps_from_container else "estimated from frame rate",
        },
        "model": {"name": track.model_name, "sha256": track.model_sha256},
        "conventions": {
            "sides": "left/right are the subject's own sides",
            "stance_leg": "the leg that carries the weight",
            "reference_point": "sway traces are relative to the stance ankle (camera motion cancels)",
            "units": "cm when --height-cm is given (leg length = 0.491 x height, Winter 2009), "
            "else % of the stance leg's hip-knee-ankle length",
            "observed": "along the picture's horizontal axis: the only axis a single camera measures",
            "depth_estimates": "second axis from MediaPipe's monocular 3-D landmarks: an estimate, "
            "several times noisier than the observed axis",
            "signal_processing": FILTER_NOTE,
            "min_trial_s": MIN_TRIAL_S,
            **{f"metric_{k}": v for k, v in CONVENTIONS.items()},
        },
        "trials": [
            {
                "stance_leg": m.trial.stance_leg,
                "lift_off_s": round(m.trial.lift_off_s, 3),
                "touch_down_s": None if m.trial.touch_down_s is None else round(m.trial.touch_down_s, 3),
                "hold_s": round(m.trial.hold_s, 3),
                "starts_with_clip": m.trial.starts_with_clip,
                "ended_by": _trial_end(analysis, m),
                "metrics": m.to_dict(),
                **a.to_dict(),
            }
            for m, a in zip(analysis.trials, analysis.assessments, strict=True)
        ],
        "session_flags": [f.to_dict() for f in analysis.session_flags],
        "short_phases": [
            {
                "stance_leg": p.stance_leg,
                "start_s": round(p.start_s, 3),
                "end_s": round(p.end_s, 3),
                "duration_s": round(p.duration_s, 3),
            }
            for p in analysis.timeline.short_phases
        ],
        "notes": list(analysis.notes),
    }


def frames_csv(analysis: Analysis) -> str:
    """One row per analysed frame: time, stance state, centre of mass and every landmark."""
    track = analysis.track
    com = centre_of_mass(track.image_xy)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["t_s", "frame_index", "stance_state", "com_x_px", "com_y_px"]
    for name in NAMES:
        header += [f"{name}_x_px", f"{name}_y_px", f"{name}_visibility"]
    for name in NAMES:
        header += [f"{name}_world_x_m", f"{name}_world_y_m", f"{name}_world_z_m"]
    writer.writerow(header)
    for i in range(len(track)):
        img = np.column_stack([track.image_xy[i], track.visibility[i]]).ravel()
        row = [f"{track.t[i]:.4f}", int(track.frame_index[i]), analysis.timeline.state[i]]
        row += [_num(v) for v in (*com[i], *img, *track.world[i].ravel())]
        writer.writerow(row)
    return out.getvalue()


def _num(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.5g}"


def write_outputs(files: Mapping[str, str | bytes], out_dir: Path) -> list[Path]:
    """Write every file or none (balance.files.staged); an earlier result in out_dir stays until then."""
    try:
        with staged(out_dir) as stage:
            for name, content in files.items():
                stage.add(name, content)
            return stage.commit()
    except OSError as exc:
        raise ResultsError(
            f"cannot write results to {out_dir} ({exc.strerror})", "Choose another folder", option="out"
        ) from exc


def result_files(analysis: Analysis) -> dict[str, str]:
    return {
        "analysis.json": json.dumps(to_json(analysis), indent=2, allow_nan=False) + "\n",
        "frames.csv": frames_csv(analysis),
    }


def _fmt(m: TraceMetrics, unit_words: str) -> str:
    return (
        f"path {m.path_length:6.1f} {unit_words}, mean velocity {m.mean_velocity:5.2f} {unit_words}/s, "
        f"RMS {m.rms[0]:5.2f} {unit_words}, range {m.range[0]:5.1f} {unit_words}"
    )


def summary(analysis: Analysis) -> str:
    """A readable account of each trial, with units and what each figure is."""
    clip = analysis.clip
    lines = [
        f"{clip.path.name}: {analysis.track.t[-1]:.1f} s, {clip.width}x{clip.height}, "
        f"{len(analysis.trials)} single-leg trial{'s' if len(analysis.trials) != 1 else ''}"
    ]
    for k, (m, a) in enumerate(zip(analysis.trials, analysis.assessments, strict=True), 1):
        tr = m.trial
        unit = UNIT_WORDS[m.scale.unit]
        down = f"touched down at {tr.touch_down_s:.2f} s" if tr.touch_down_s is not None else "no touch-down"
        start = "from the clip's start" if tr.starts_with_clip else f"lifted at {tr.lift_off_s:.2f} s"
        lines.append("")
        lines.append(
            f"Trial {k}: standing on the {tr.stance_leg} leg, free foot {start}, {down}; held {tr.hold_s:.1f} s"
        )
        lines.append(
            f"  {m.view} view (shoulder/trunk ratio {m.view_ratio:.2f}): figures below are sway "
            f"{AXIS_WORDS[m.horizontal_axis]}, measured {m.analysed_from_s:.1f}-{m.analysed_to_s:.1f} s, "
            f"relative to the stance ankle, in {unit}"
            + ("" if m.scale.unit == "cm" else " (give --height-cm for centimetres)")
        )
        for t in m.observed:
            if t.name == "stance_foot":
                lines.append(
                    f"  {'stance foot':16s} mean velocity {t.mean_velocity:5.2f} {unit}/s, "
                    f"range {t.range[0]:.1f} {unit} across, {t.range[1]:.1f} {unit} up-down (foot shifting)"
                )
            else:
                lines.append(f"  {t.name.replace('_', ' '):16s} {_fmt(t, unit)}")
        for t in m.angles:
            lines.append(
                f"  {t.name.replace('_', ' '):16s} RMS {t.rms[0]:4.1f} deg, range {t.range[0]:4.1f} deg, "
                f"mean angular velocity {t.mean_velocity:4.1f} deg/s"
            )
        lines += _assessment_lines(a)
        if m.coverage < 0.9:
            lines.append(f"  note: landmarks visible in only {100 * m.coverage:.0f}% of the analysed frames")
    for p in analysis.timeline.short_phases:
        lines.append(
            f"Also a {p.duration_s:.1f} s one-leg phase on the {p.stance_leg} leg at {p.start_s:.1f} s: "
            f"shorter than the {MIN_TRIAL_S:.0f} s minimum trial, not scored"
        )
    lines += [f"Both legs: {f.text}" for f in analysis.session_flags]
    lines += [f"Note: {n}" for n in analysis.notes]
    return "\n".join(lines)


def _assessment_lines(a: Assessment) -> list[str]:
    d, tp, sc = a.decomposition, a.tripod, a.score
    shares = ", ".join(f"{k} {100 * v:.0f} %" for k, v in d.shares.items())
    bands = d.bands
    lines = [
        f"  Stability score {sc.value:.0f}/100 (changes under {sc.mdc:.0f} points are within measurement noise)",
        f"  Where the wobble comes from: {d.sentence()} Shares: {shares}.",
        f"  Sway rhythm: {100 * bands['drift']:.0f} % slow drift (<0.5 Hz), {100 * bands['corrective']:.0f} % "
        f"corrective (0.5-2 Hz), {100 * bands['fast_wobble']:.0f} % fast wobble (>2 Hz)",
        f"  Foot tripod (estimate from body geometry, not pressure): inner ball {100 * tp.split['inner_ball']:.0f} %,"
        f" outer ball {100 * tp.split['outer_ball']:.0f} %, big toe {100 * tp.split['big_toe']:.0f} %; centre of "
        f"mass {tp.mean_fore_aft:.2f} foot lengths from the heel, {tp.mean_medial:+.2f} towards the big toe "
        f"(+-{tp.per_frame_sd:.2f} from landmark jitter)",
    ]
    if a.flags:
        lines += [f"  ! {f.text}" for f in a.flags]
    else:
        lines.append("  No flags: steady, level and balanced.")
    return lines
