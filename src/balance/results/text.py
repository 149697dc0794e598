"""An `Analysis` as text: the per-frame CSV and the terminal summary."""

from __future__ import annotations

import csv
import io

import numpy as np

from balance.assess.assessment import Assessment
from balance.assess.catalogue import HOLD_ENDED, NOT_JUDGED, WOBBLE_NOT_JUDGED, no_flags
from balance.assess.tripod import TripodEstimate
from balance.measure.body import centre_of_mass
from balance.measure.sway import TraceMetrics
from balance.measure.trial import AXIS_WORDS
from balance.pipeline import Analysis
from balance.pose.landmarks import NAMES
from balance.pose.steady import CameraMotion
from balance.stance.trials import ended_by
from balance.twoview.fuse import TwoView

UNIT_WORDS = {"cm": "cm", "%leg": "% of leg length"}


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
        held = f"held {tr.hold_s:.1f} s"
        if tr.touch_down_s is None:
            # A hold the clip, a timed test or a passer-by cut short is a lower bound, never the person's limit.
            ended = HOLD_ENDED[ended_by(tr, analysis.track)]
            held = f"held {ended}: at least {tr.hold_s:.1f} s, not a measured limit"
        lines.append("")
        lines.append(f"Trial {k}: standing on the {tr.stance_leg} leg, free foot {start}, {down}; {held}")
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
                    f"range {t.range[0]:.1f} {unit} across, {t.range[1]:.1f} {unit} up-down (planted foot landmarks)"
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
            f"shorter than the {analysis.min_trial_s:g} s minimum trial, not scored"
        )
    lines += [f"Both legs: {f.text}" for f in analysis.session_flags]
    lines += _camera_lines(analysis.camera)
    lines += [f"Note: {n}" for n in analysis.notes]
    if analysis.two_view is not None:
        lines += two_view_lines(analysis.two_view, analysis.clip.path.name)
    return "\n".join(lines)


def _camera_lines(camera: CameraMotion | None) -> list[str]:
    """What the camera's own motion did to the result, where it did anything (pose/steady.py)."""
    if camera is None or camera.verdict in ("still", "not_measured", "moved"):  # moved: said in the notes
        return []
    shift, zoom, turn = camera.ranges()
    moved = (
        f"the picture moved by up to {100 * shift:.1f} % of the frame, zoomed by {100 * zoom:.1f} % and turned "
        f"{turn:.1f} deg"
    )
    return [
        {
            "corrected": f"Camera: {moved}; that motion, found from the background, was taken out of every landmark "
            "before measuring",
            "too_much": f"Camera: {moved}, too much to judge the standing foot; the sway was corrected for it, but "
            "whether the foot shifted is not judged. Film with the phone propped up or held still",
            "unknown": "Camera: the background is too plain to follow, so whether the camera moved is not known; a "
            "moving phone would show as sway, and whether the standing foot shifted is not judged. Prop the phone "
            "up, or film where the background has some texture",
        }[camera.verdict]
    ]


def two_view_lines(tv: TwoView, front_name: str) -> list[str]:
    """The fused 2-D holds of a two-camera analysis: pairing, offset, stabilogram metrics, tripod on both axes."""
    sync, pairing = tv.sync, tv.pairing
    lines = [
        "",
        f"Two cameras: {front_name} as the front view (side to side), {tv.side.clip.path.name} as the side view "
        f"(forward-backward), {pairing.separation_deg:.0f} +- {pairing.separation_sd_deg:.0f} deg apart "
        "(90 = at right angles)",
        f"  side clip offset {1000 * sync.offset_s:+.1f} ms +- {1000 * sync.offset_sd_s:.1f} ms (from the movement: "
        f"hips, shoulders and free foot heights match at r = {sync.peak_r:.2f})",
    ]
    for t in tv.trials:
        unit = UNIT_WORDS[t.unit]
        com = next(m for m in t.traces if m.name == "centre_of_mass")
        lines.append(
            f"  {t.stance_leg}-leg hold seen by both, {t.from_s:.2f}-{t.to_s:.2f} s: 2-D stabilogram of the centre "
            f"of mass (ml side to side, ap forward-backward, {unit})"
        )
        area = com.ellipse_area_95 or 0.0
        lines.append(
            f"    95 % prediction ellipse {area:.1f} {unit}^2 (+-{t.ellipse_area_offset_sd:.1f} over the offset's "
            f"uncertainty), mean velocity {com.mean_velocity:.2f} {unit}/s, path {com.path_length:.1f} {unit}"
        )
        lines.append(
            f"    RMS ml {com.rms[0]:.2f} / ap {com.rms[1]:.2f} {unit}, range ml {com.range[0]:.1f} / ap "
            f"{com.range[1]:.1f} {unit}"
        )
        for m in t.traces:
            if m.name != "centre_of_mass":
                lines.append(
                    f"    {m.name.replace('_', ' '):16s} RMS ml {m.rms[0]:.2f} / ap {m.rms[1]:.2f} {unit}, "
                    f"mean velocity {m.mean_velocity:.2f} {unit}/s"
                )
        lines.append(f"    Weight side to side (front view): {t.tripod['medial']['words']}")
        lines.append(f"    Heel to toe (side view): {t.tripod['fore_aft']['words']}")
    lines += [f"  Note: {n}" for n in tv.notes]
    return lines


def _heel_to_toe(tp: TripodEstimate) -> str:
    # A camera in front sees the foot end-on: heel to toe runs along its line of sight, so it cannot place the
    # weight along the foot; the number would carry only landmark jitter as its uncertainty.
    if tp.less_reliable_axis in ("fore_aft", "both"):
        return "this view cannot tell (the foot points at the camera; film from the side for heel to toe)"
    return (
        f"centre of mass {tp.mean_fore_aft:.2f} foot lengths from the heel (estimate; +-{tp.fore_aft_sd:.2f} over the "
        "hold, landmark jitter and body model not included)"
    )


def _split(tp: TripodEstimate) -> str:
    """The three-point split only where the answer places the weight; else why it is not given."""
    if not tp.split_known:
        return "no split given: the answer above cannot place the weight, so a three-way split would be a guess"
    sd = tp.split_sd
    return (
        "the body model's estimate, not pressure: "
        + ", ".join(
            f"{words} {100 * tp.split[k]:.0f} +- {100 * 1.96 * sd[k]:.0f} %"
            for k, words in (("inner_ball", "inner ball"), ("outer_ball", "outer ball"), ("big_toe", "big toe"))
        )
        + " (95 %)"
    )


def _assessment_lines(a: Assessment) -> list[str]:
    d, tp, sc = a.decomposition, a.tripod, a.score
    shares = ", ".join(f"{k} {100 * v:.0f} %" for k, v in d.shares.items())
    bands = d.bands
    lines = [
        f"  Stability score {sc.value:.0f}/100 (changes under {sc.mdc:.0f} points are within measurement noise)"
        if sc.judged
        else f"  Stability score not judged: {NOT_JUDGED}",
        f"  Where the wobble comes from: {d.sentence()} Shares: {shares}."
        if sc.judged
        else f"  Where the wobble comes from: {WOBBLE_NOT_JUDGED}: {shares}.",
        f"  Sway rhythm: {100 * bands['drift']:.0f} % slow drift (<0.5 Hz), {100 * bands['corrective']:.0f} % "
        f"corrective (0.5-2 Hz), {100 * bands['fast_wobble']:.0f} % fast wobble (>2 Hz)",
        f"  Weight on the foot: {tp.answer_words()}",
        f"  Heel to toe: {_heel_to_toe(tp)}",
        f"  Foot tripod: {_split(tp)}",
    ]
    if a.flags:
        lines += [f"  ! {f.text}" for f in a.flags]
    else:
        lines.append(f"  No flags{no_flags(sc.judged)}.")
    return lines
