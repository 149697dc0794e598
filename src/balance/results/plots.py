"""Figures of the analysis as PNG bytes (matplotlib, Agg): sway per segment, stabilogram, tripod map, shares, sides.

Drawn from the results document plus the per-trial traces of series.npz, so saved results re-render.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Polygon
from scipy import stats

from balance.assess.tripod import headline, middle_band
from balance.pipeline import Analysis
from balance.results.document import Document, Trial
from balance.results.pair_record import PairTrial
from balance.results.scene import FOOT_OUTLINE, ROLL_BAR_FORE_AFT, short_reason

SERIES_FORMAT = "balance-series-1"
DPI = 100
# Figure sizes in inches; at DPI these are the PNGs' pixel sizes, which the report lays out for A4.
SIZES = {
    "sway": (8.0, 5.6),
    "stabilogram": (4.6, 4.6),
    "tripod": (3.4, 4.6),
    "shares": (8.0, 2.0),
    "left_right": (8.0, 2.5),
}
UNIT_LABEL = {"cm": "cm", "%leg": "% leg length", "deg": "deg"}
AXIS_LABEL = {
    "ml": "side to side (medio-lateral)",
    "ap": "forward-backward (antero-posterior)",
    "mixed": "across the picture (oblique view)",
}
# The depth estimate is the axis the camera looks along: forward-backward in a front view, and so on.
DEPTH_LABEL = {
    "ml": "forward-backward, depth estimate",
    "ap": "side to side, depth estimate",
    "mixed": "along the camera's line of sight, estimate",
}
SEGMENT_COLOURS = {"foot": "#2a9d8f", "hip": "#e9c46a", "trunk": "#e76f51"}
LEG_COLOURS = {"left": "#1f77b4", "right": "#d62728"}
TRIPOD_KEYS = ("inner_ball", "outer_ball", "big_toe")
TRIPOD_WORDS = {"inner_ball": "inner ball", "outer_ball": "outer ball", "big_toe": "big toe"}


# --- the per-trial traces ------------------------------------------------------------------------------


def series_npz(analysis: Analysis) -> bytes:
    """Every trial's time grid and filtered traces (SwayMetrics.grid and .series) as one .npz file."""
    arrays: dict[str, np.ndarray] = {"format": np.array(SERIES_FORMAT)}
    for k, m in enumerate(analysis.trials):
        arrays[f"trial{k}__grid"] = np.asarray(m.grid, dtype=np.float64)
        for name, values in m.series.items():
            arrays[f"trial{k}__{name}"] = np.asarray(values, dtype=np.float64)
        # The tripod estimate's centre-of-mass projection (fore-aft, medial; foot lengths) on the same grid.
        arrays[f"trial{k}__tripod_projection"] = np.asarray(analysis.assessments[k].tripod.projection, np.float64)
    # Two cameras: each fused hold's grid and 2-D centre of mass (ml, ap) beside its front-view trial's traces.
    for t in analysis.two_view.trials if analysis.two_view is not None else ():
        arrays[f"trial{t.front_index}__two_view_grid"] = np.asarray(t.grid, dtype=np.float64)
        arrays[f"trial{t.front_index}__two_view_centre_of_mass"] = np.asarray(t.series["centre_of_mass"], np.float64)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def load_series(source: Path | bytes) -> list[dict[str, np.ndarray]]:
    """The traces of a series.npz file (or its bytes), one dict per trial in the JSON's order: "grid" plus
    each trace by name."""
    with np.load(io.BytesIO(source) if isinstance(source, bytes) else source) as data:
        if "format" not in data or str(data["format"]) != SERIES_FORMAT:
            raise ValueError(f"not a {SERIES_FORMAT} file")
        trials: dict[int, dict[str, np.ndarray]] = {}
        for key in data.files:
            if key.startswith("trial") and "__" in key:
                head, name = key.split("__", 1)
                trials.setdefault(int(head[5:]), {})[name] = data[key]
    return [trials.get(k, {}) for k in range(max(trials, default=-1) + 1)]


# --- helpers -------------------------------------------------------------------------------------------


def trial_title(trial: Trial, k: int) -> str:
    return f"Trial {k + 1}: {trial.stance_leg} leg"


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No "Software" text chunk: it names a web address, and the report promises none.
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _figure(kind: str, **kwargs: Any) -> tuple[Figure, Any]:
    # A bare Figure renders through Agg without pyplot: no global backend switch, no GUI, no figure registry.
    fig = Figure(figsize=SIZES[kind], dpi=DPI)
    return fig, fig.subplots(**kwargs)


def _unit(trial: Trial) -> str:
    return UNIT_LABEL.get(trial.metrics.unit, trial.metrics.unit)


def _finite(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return a[np.all(np.isfinite(a.reshape(len(a), -1)), axis=1)] if len(a) else a


# --- sway over time ------------------------------------------------------------------------------------


def sway_plot(trial: Trial, s: Mapping[str, np.ndarray], k: int) -> bytes:
    """Foot, hip, trunk and whole-body sway over the trial, each about its mean, with lift-off and touch-down."""
    unit = _unit(trial)
    axis = AXIS_LABEL.get(trial.metrics.horizontal_axis, "across the picture")
    grid = np.asarray(s["grid"], dtype=float)
    rows = [
        ("Foot", "stance_foot", None, "stance foot centre"),
        ("Hip", "hip_centre", "pelvic_tilt", "hip centre"),
        ("Trunk", "shoulder_centre", "trunk_lean", "shoulder centre"),
        ("Whole body", "centre_of_mass", None, "centre of mass"),
    ]
    fig, axes = _figure("sway", nrows=len(rows), sharex=True)
    traces = {}
    for _, key, _, _ in rows:
        v = np.asarray(s.get(key, np.full(len(grid), np.nan)), dtype=float)
        v = v[:, 0] if v.ndim == 2 else v  # the foot's first column is its horizontal motion
        traces[key] = v - np.nanmean(v) if np.isfinite(v).any() else v
    # One position scale for every row, so the segment that wobbles most shows as the widest trace.
    lim = max([float(np.nanmax(np.abs(v))) for v in traces.values() if np.isfinite(v).any()] + [1e-6]) * 1.15
    lift, down = trial.lift_off_s, trial.touch_down_s
    end = float(down) if down is not None else float(grid[-1])
    for ax, (label, key, angle, words) in zip(axes, rows, strict=True):
        ax.plot(grid, traces[key], color="#264653", lw=1.2, label=words)
        ax.set_ylim(-lim, lim)
        ax.set_ylabel(f"{label}\n{unit}", fontsize=8)
        ax.axhline(0, color="0.75", lw=0.6)
        if angle is not None and angle in s:
            twin = ax.twinx()
            a = np.asarray(s[angle], dtype=float)
            twin.plot(grid, a - np.nanmean(a), color="#e76f51", lw=0.9, ls="--")
            amax = max(float(np.nanmax(np.abs(a - np.nanmean(a)))) * 1.15, 0.5)
            twin.set_ylim(-amax, amax)
            twin.set_ylabel(f"{angle.replace('_', ' ')}\ndeg (dashed)", fontsize=7, color="#e76f51")
            twin.tick_params(labelsize=7, colors="#e76f51")
        ax.tick_params(labelsize=7)
        ax.axvspan(lift, grid[0], color="0.92", lw=0)
        ax.axvspan(grid[-1], end, color="0.92", lw=0)
        ax.axvline(lift, color="#2a9d8f", lw=1.5)
        ax.axvline(end, color="#d62728" if down is not None else "0.4", lw=1.5)
    top = axes[0]
    top.text(
        lift,
        lim * 1.05,
        " clip start" if trial.starts_with_clip else " lift-off",
        fontsize=7,
        color="#2a9d8f",
        va="bottom",
    )
    end_word = {"touch_down": "touch-down ", "subject_lost": "subject lost ", "someone_passed": "hidden "}.get(
        trial.ended_by, "clip end "
    )
    top.text(
        end, lim * 1.05, end_word, fontsize=7, ha="right", va="bottom", color="#d62728" if down is not None else "0.4"
    )
    shaded = grid[0] - lift > 0.05 or end - grid[-1] > 0.05
    axes[-1].set_xlabel(
        "time in clip (s)" + ("; grey: settling and landing, not analysed" if shaded else ""), fontsize=8
    )
    axes[-1].set_xlim(lift - 0.2, end + 0.2)
    fig.suptitle(f"{trial_title(trial, k)}: sway {axis}, about each trace's mean", fontsize=10)
    fig.subplots_adjust(left=0.1, right=0.9, top=0.9, bottom=0.09, hspace=0.12)
    return _png(fig)


# --- stabilogram ---------------------------------------------------------------------------------------


def prediction_ellipse(xy: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, float, float, float]:
    """Centre, full width, full height and angle (deg) of the 95 % prediction ellipse (F distribution).

    Same convention as sway.prediction_ellipse_area (Schubert & Kirchner 2014): the semi-axes are
    sqrt(c * eigenvalue) with c = F(level; 2, n-2) * 2(n-1)(n+1) / (n(n-2)), S with n - 1.
    """
    a = _finite(xy)
    n = len(a)
    if n < 4:
        raise ValueError(f"an ellipse needs at least 4 samples; got {n}")
    cov = np.cov(a, rowvar=False, ddof=1)
    vals, vecs = np.linalg.eigh(cov)
    vals = np.clip(vals, 0.0, None)
    c = float(stats.f.ppf(level, 2, n - 2)) * 2 * (n - 1) * (n + 1) / (n * (n - 2))
    angle = math.degrees(math.atan2(vecs[1, 1], vecs[0, 1]))
    return a.mean(axis=0), 2 * math.sqrt(c * vals[1]), 2 * math.sqrt(c * vals[0]), angle


def _ellipse_extent(centre: np.ndarray, width: float, height: float, angle: float) -> np.ndarray:
    """Half-extent of the ellipse's bounding box along x and y, plus its centre's offset."""
    a, b, t = width / 2, height / 2, math.radians(angle)
    half = np.array([math.hypot(a * math.cos(t), b * math.sin(t)), math.hypot(a * math.sin(t), b * math.cos(t))])
    return np.abs(centre) + half


def stabilogram(trial: Trial, s: Mapping[str, np.ndarray], k: int) -> bytes | None:
    """Centre of mass: observed horizontal axis against the depth estimate, with the 95 % prediction ellipse."""
    if "centre_of_mass" not in s or "centre_of_mass_depth" not in s:
        return None
    xy = _finite(np.column_stack([s["centre_of_mass"], s["centre_of_mass_depth"]]))
    if len(xy) < 4:
        return None
    xy = xy - xy.mean(axis=0)
    axis = trial.metrics.horizontal_axis
    unit = _unit(trial)
    centre, width, height, angle = prediction_ellipse(xy)
    fig, ax = _figure("stabilogram")
    ax.plot(xy[:, 0], xy[:, 1], color="#264653", lw=0.7, alpha=0.8)
    ax.add_patch(Ellipse(tuple(centre), width, height, angle=angle, fill=False, color="#d62728", lw=1.5))
    area = math.pi * width * height / 4
    # Drawn to scale unless the depth estimate's noise dwarfs the measured axis so much that the measured
    # sway would be a sliver; then each axis gets its own scale, and the plot says so.
    reach = np.maximum(np.abs(xy).max(axis=0), np.abs(_ellipse_extent(centre, width, height, angle))) * 1.1
    to_scale = reach.max() / max(reach.min(), 1e-9) <= 4
    if to_scale:
        reach[:] = reach.max()
        ax.set_aspect("equal")
    ax.set_xlim(-reach[0], reach[0])
    ax.set_ylim(-reach[1], reach[1])
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    ax.set_xlabel(f"{AXIS_LABEL.get(axis, 'across the picture')}, {unit}", fontsize=8)
    ax.set_ylabel(f"{DEPTH_LABEL.get(axis, 'depth estimate')}, {unit}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"{trial_title(trial, k)}: centre of mass", fontsize=9)
    sq = "cm²" if unit == "cm" else f"({unit})²"
    scale_note = "" if to_scale else "\naxes not to the same scale"
    ax.text(
        0.02,
        0.02,
        f"95 % prediction ellipse (estimate)\narea {area:.3g} {sq}{scale_note}",
        transform=ax.transAxes,
        fontsize=7,
        color="#d62728",
        va="bottom",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5},
    )
    fig.subplots_adjust(left=0.18, right=0.96, top=0.92, bottom=0.12)
    return _png(fig)


def stabilogram_2d(pair: PairTrial, s: Mapping[str, np.ndarray], k: int) -> bytes | None:
    """Two cameras: the centre of mass seen from above, both axes measured (ml from the front view, ap from the
    side view), drawn to scale with the 95 % prediction ellipse, as a force plate's stabilogram."""
    if "two_view_centre_of_mass" not in s:
        return None
    xy = _finite(np.asarray(s["two_view_centre_of_mass"]))
    if len(xy) < 4:
        return None
    xy = xy - xy.mean(axis=0)
    unit = UNIT_LABEL.get(pair.unit, pair.unit)
    centre, width, height, angle = prediction_ellipse(xy)
    fig, ax = _figure("stabilogram")
    ax.plot(xy[:, 0], xy[:, 1], color="#264653", lw=0.7, alpha=0.8)
    ax.add_patch(Ellipse(tuple(centre), width, height, angle=angle, fill=False, color="#d62728", lw=1.5))
    reach = float(max(np.abs(xy).max(), np.abs(_ellipse_extent(centre, width, height, angle)).max())) * 1.1
    ax.set_aspect("equal")
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.axhline(0, color="0.8", lw=0.6)
    ax.axvline(0, color="0.8", lw=0.6)
    ax.set_xlabel(f"side to side (front camera), + to the left, {unit}", fontsize=8)
    ax.set_ylabel(f"forward-backward (side camera), + forward, {unit}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"Trial {k + 1} ({pair.stance_leg} leg): two cameras, centre of mass", fontsize=9)
    com = pair.traces["centre_of_mass"]
    sq = "cm²" if pair.unit == "cm" else f"({unit})²"
    ax.text(
        0.02,
        0.02,
        f"95 % prediction ellipse\narea {com.ellipse_area_95 or 0:.3g} ± {pair.ellipse_area_offset_sd:.2g} {sq}",
        transform=ax.transAxes,
        fontsize=7,
        color="#d62728",
        va="bottom",
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5},
    )
    fig.subplots_adjust(left=0.18, right=0.96, top=0.92, bottom=0.12)
    return _png(fig)


# --- tripod --------------------------------------------------------------------------------------------


def tripod_map(trial: Trial, s: Mapping[str, np.ndarray], k: int) -> bytes | None:
    fig = tripod_figure(trial, s, k)
    return None if fig is None else _png(fig)


def tripod_figure(trial: Trial, s: Mapping[str, np.ndarray], k: int) -> Figure | None:
    """The stance foot from above with its tripod, and the tripod's answer as the document states it: the 95 %
    interval of the mean side-to-side position as a band across the foot (never a point), the middle band
    that "centred" means, how far the weight rolls either side of its mean (front view), and the answer in
    words with its reason."""
    if "tripod_projection" not in s:
        return None
    tripod = trial.tripod
    pts = {key: getattr(tripod.tripod_points, key) for key in TRIPOD_KEYS}
    # Seen from above with the toes up: a left foot has its big toe on the right, a right foot on the left.
    mirror = -1.0 if trial.stance_leg == "right" else 1.0

    def xy(fa_med: np.ndarray) -> np.ndarray:
        a = np.asarray(fa_med, dtype=float).reshape(-1, 2)
        return np.column_stack([mirror * a[:, 1], a[:, 0]])

    fig, ax = _figure("tripod")
    ax.add_patch(Polygon(xy(FOOT_OUTLINE), closed=True, facecolor="#f4efe6", edgecolor="0.3", lw=1.2))
    ci = tripod.medial_ci95
    reach = max(0.45, *(abs(v) + 0.08 for v in ci or ()))
    lo, hi = np.array([-min(reach, 1.2), -0.15]), np.array([min(reach, 1.2), 1.15])
    low, high = middle_band()
    for edge in (low, high):
        ax.axvline(mirror * edge, color="0.45", lw=0.8, ls=":")
    ax.text(mirror * (low + high) / 2, 1.12, "middle", ha="center", va="center", fontsize=6, color="0.35")
    if ci is not None:
        band = sorted(mirror * v for v in ci)
        ax.axvspan(*band, color="#d62728", alpha=0.22, lw=0, label="95 % interval of the mean", gid="ci95")
        for x in band:
            ax.axvline(x, color="#d62728", lw=1.0)
    if tripod.cop_roll_95 is not None and ci is not None:
        mean = mirror * float(np.mean(ci))
        roll = tripod.cop_roll_95
        ax.errorbar(mean, ROLL_BAR_FORE_AFT, xerr=roll, fmt="none", ecolor="k", elinewidth=1.6, capsize=4, gid="roll")
        ax.plot([], [], "k-", lw=1.6, label=f"weight rolls +-{roll:.2f} either side\n(foot lengths)")
    tri = xy(np.array([pts[key] for key in TRIPOD_KEYS]))
    ax.add_patch(Polygon(tri, closed=True, fill=False, edgecolor="#2a9d8f", lw=1.2, ls="--"))
    for key, (x, y) in zip(TRIPOD_KEYS, tri, strict=True):
        ax.plot(x, y, "o", color="#2a9d8f", ms=7, mec="k")
        ax.annotate(TRIPOD_WORDS[key], (x, y), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    inner, outer = ("inside", "outside") if mirror > 0 else ("outside", "inside")
    ax.set_xlabel(f"{outer}  <  across the foot  >  {inner}  (foot lengths)", fontsize=7)
    ax.set_ylabel("heel  >  toes  (foot lengths)", fontsize=7)
    ax.tick_params(labelsize=6)
    # Lower left: beside the heel, clear of the tripod's labels.
    ax.legend(fontsize=6, loc="lower left", frameon=False)
    ax.set_title(f"{trial_title(trial, k)}: weight over the foot\n{tripod_headline(trial)}", fontsize=8)
    fig.subplots_adjust(left=0.17, right=0.97, top=0.86, bottom=0.12)
    return fig


def tripod_headline(trial: Trial) -> str:
    """The answer and its short reason, as the video's foot inset says it."""
    tripod = trial.tripod
    if tripod.answer is None:
        return "no answer in this older document"
    roll = trial.metrics.camera_roll
    reason = short_reason(tripod.answer, trial.metrics.view, roll.method if roll else None)
    return f"{headline(tripod.answer, tripod.probabilities)}\n({reason})"


# --- segment shares ------------------------------------------------------------------------------------


def shares_plot(trials: Sequence[Trial]) -> bytes | None:
    """One stacked bar per trial: how much of the sway came from the foot, the hip and the trunk."""
    rows = []
    for k, t in enumerate(trials):
        sh = {key: v for key, v in t.decomposition.shares.items() if key in SEGMENT_COLOURS}
        if not sh:
            continue
        correcting = t.decomposition.compensating
        # A segment without a share either moved against the sway (correcting it) or was not visible.
        missing = [f"{s} {'correcting' if s in correcting else 'not measured'}" for s in SEGMENT_COLOURS if s not in sh]
        rows.append((trial_title(t, k) + (f"\n({', '.join(missing)})" if missing else ""), sh))
    if not rows:
        return None
    fig, ax = _figure("shares")
    for r, (_, sh) in enumerate(rows):
        left = 0.0
        for key, colour in SEGMENT_COLOURS.items():
            v = 100 * sh.get(key, 0.0)
            ax.barh(r, v, left=left, color=colour, edgecolor="white", label=key if r == 0 else None)
            if v >= 6:
                ax.text(left + v / 2, r, f"{key} {v:.0f} %", ha="center", va="center", fontsize=8)
            left += v
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of the sway, %", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title("Where the wobble comes from", fontsize=9, loc="left")
    ax.legend(fontsize=7, ncols=3, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.subplots_adjust(left=0.22, right=0.97, top=0.8, bottom=0.22)
    return _png(fig)


# --- left vs right -------------------------------------------------------------------------------------


def _com(key: str) -> Callable[[Trial], float | None]:
    def get(trial: Trial) -> float | None:
        com = trial.metrics.observed.get("centre_of_mass")
        if com is None:
            return None
        value = getattr(com, key)
        return float(value[0]) if isinstance(value, tuple) else float(value)

    return get


def left_right_plot(trials: Sequence[Trial]) -> bytes | None:
    """Left and right leg side by side on the headline figures (each leg's mean over its trials); the traces
    themselves are in each trial's sway plot."""
    legs = {leg: [t for t in trials if t.stance_leg == leg] for leg in ("left", "right")}
    if not legs["left"] or not legs["right"]:
        return None
    unit = _unit(legs["left"][0])
    panels: list[tuple[str, Callable[[Trial], float | None]]] = [
        ("hold time, s", lambda t: t.hold_s),
        (f"centre of mass\nmean velocity, {unit}/s", _com("mean_velocity")),
        (f"centre of mass\nRMS, {unit}", _com("rms")),
        ("outer-ball share, %\n(estimate)", lambda t: 100 * t.tripod.split.outer_ball if t.tripod.split else None),
        ("stability score\n(0-100)", lambda t: t.score.value if t.score.judged else None),
    ]
    fig, axes = _figure("left_right", ncols=len(panels))
    for ax, (label, get) in zip(axes, panels, strict=True):
        values = []
        for leg in ("left", "right"):
            found = [v for v in (get(t) for t in legs[leg]) if v is not None]
            values.append(float(np.mean(found)) if found else None)
        for x, (leg, value) in enumerate(zip(("left", "right"), values, strict=True)):
            if value is None:
                ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7)
                continue
            ax.bar(x, value, color=LEG_COLOURS[leg], width=0.6)
            ax.text(x, value, f"{value:.3g}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks([0, 1], ["left", "right"], fontsize=7)
        ax.set_title(label, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_ylim(0, max([v for v in values if v is not None] + [1e-6]) * 1.25)
    fig.suptitle("Left vs right (each leg's mean over its trials)", fontsize=9)
    fig.subplots_adjust(left=0.05, right=0.99, top=0.72, bottom=0.12, wspace=0.45)
    return _png(fig)


# --- everything ----------------------------------------------------------------------------------------


def draw_all(doc: Document, series: Sequence[Mapping[str, np.ndarray]]) -> dict[str, bytes]:
    """Every figure the data allows, by file name; figures whose data is missing are left out."""
    trials = doc.trials
    out: dict[str, bytes] = {}
    for k, trial in enumerate(trials):
        s = series[k] if k < len(series) else {}
        if "grid" not in s or len(s["grid"]) < 4:
            continue
        out[f"sway_trial{k + 1}.png"] = sway_plot(trial, s, k)
        for name, draw in (("stabilogram", stabilogram), ("tripod", tripod_map)):
            png = draw(trial, s, k)
            if png is not None:
                out[f"{name}_trial{k + 1}.png"] = png
    for pair in doc.two_view.trials if doc.two_view is not None else ():
        k = pair.front_trial
        if (png := stabilogram_2d(pair, series[k] if k < len(series) else {}, k)) is not None:
            out[f"stabilogram2d_trial{k + 1}.png"] = png
    if (png := shares_plot(trials)) is not None:
        out["segment_shares.png"] = png
    if (png := left_right_plot(trials)) is not None:
        out["left_vs_right.png"] = png
    return out
