"""The results document: analysis.json as frozen types, built once per analysis and checked once when loaded.

`build_document(analysis)` makes it; `Document.to_json()` is the JSON (schema SCHEMA_VERSION, every number with
its unit and convention); `load_document(path)` reads a saved analysis.json back, and refuses a damaged one
with a ResultsError naming the first field that is wrong. The report, the plots, the annotated video, the
history and the web pages read these types, never the raw JSON.

The types are the schema (balance.results.codec): a field the analysis emits that has no field here is an
error when the document is built, so a new output is added here, under its name, or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from balance import __version__
from balance.errors import ResultsError
from balance.measure.sway import CONVENTIONS
from balance.measure.trial import FILTER_NOTE
from balance.pipeline import Analysis
from balance.results.codec import SchemaError, from_plain, to_plain
from balance.results.pair_record import TwoView
from balance.results.trace_record import Numbers, Trace, Words
from balance.stance.trials import ended_by

SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Tool:
    name: str
    version: str


@dataclass(frozen=True)
class Clip:
    path: str
    sha256: str
    width: int
    height: int
    rotation_deg: int
    fps_nominal: float
    duration_s: float
    frames_decoded: int
    frames_analysed: int
    analysed_fps: float
    truncated: bool
    timestamps: str  # "container" or "estimated from frame rate"


@dataclass(frozen=True)
class Model:
    name: str
    sha256: str


@dataclass(frozen=True)
class CameraRoll:
    """How far the picture was rolled from the true vertical, and how that was found (measure/vertical.py)."""

    roll_deg: float
    roll_sd_deg: float
    method: str  # two_leg_standing, steady_hold, assumed_level
    frames: int
    note: str
    units: Words


@dataclass(frozen=True)
class SideStretch:
    """A stretch of frames whose left and right were decided together (pose/sides.py)."""

    from_s: float
    to_s: float
    labels_swapped: bool
    decided_by: tuple[str, ...]


@dataclass(frozen=True)
class Facing:
    """Which way the subject faced and how the sides were decided (pose/sides.py)."""

    facing: str
    decided_by: str
    evidence_leg_lengths: float
    labels_swapped: bool
    note: str
    stretches: tuple[SideStretch, ...] = ()  # absent in documents written before sides were decided per stretch
    mixed_frames_bridged: int = 0


@dataclass(frozen=True)
class CameraMotion:
    """The camera's own motion found from the scene and removed from the landmarks (pose/steady.py)."""

    verdict: str  # still, corrected, too_much, unknown, moved, not_measured
    words: str
    corrected: bool
    foot_judged: bool  # whether the planted foot's moves could be told from the camera's
    tracked_share: float
    shift_range: float
    zoom_range: float
    turn_range_deg: float
    residual_px: float
    series: dict[str, tuple[float, ...]]  # t_s, shift_x, shift_y, zoom, turn_deg at about 5 Hz
    method: str
    units: Words
    sway_judged: bool = True  # whether the sway is the person's (moved: the picture moved, and nothing showed how)


@dataclass(frozen=True)
class Metrics:
    """One trial's measurement (balance.measure.trial.SwayMetrics)."""

    view: str  # front, side, oblique
    view_ratio: float
    horizontal_axis: str  # ml, ap, mixed
    unit: str  # cm or %leg
    height_cm: float | None
    leg_length_px: float
    analysed_from_s: float
    analysed_to_s: float
    sample_rate_hz: float
    landmark_coverage: float
    observed: dict[str, Trace]
    depth_estimates: dict[str, Trace]
    angles: dict[str, Trace]
    camera_roll: CameraRoll | None = None  # absent in documents written before it was measured
    facing: Facing | None = None
    camera_motion: CameraMotion | None = None  # absent in documents written before it was measured


@dataclass(frozen=True)
class Bands:
    """Share of the centre of mass's sway power per band (Paillard & Noé 2015's bands)."""

    drift: float
    corrective: float
    fast_wobble: float


@dataclass(frozen=True)
class TripodShares:
    inner_ball: float
    outer_ball: float
    big_toe: float


@dataclass(frozen=True)
class TripodPoints:
    """Each point as (fore-aft from the heel, medial towards the big toe), foot lengths."""

    inner_ball: tuple[float, float]
    outer_ball: tuple[float, float]
    big_toe: tuple[float, float]


@dataclass(frozen=True)
class Decomposition:
    shares: Numbers
    signed_shares: Numbers
    compensating: tuple[str, ...]
    dominant: str
    summary: str
    explained_r2: float
    bands: Bands
    band_limits_hz: dict[str, tuple[float, float | None]]
    mean_frequency_hz: dict[str, float | None]
    method: str
    units: Words


@dataclass(frozen=True)
class Tripod:
    split: TripodShares | None  # only where the answer places the weight (outside, centred, inside)
    split_sd: TripodShares | None
    mean_fore_aft: float
    mean_medial: float
    fore_aft_sd: float
    medial_sd: float
    per_frame_sd: float
    time_outside_tripod: float
    less_reliable_axis: str
    tripod_points: TripodPoints
    units: Words
    estimate: str
    # The side-to-side position's whole uncertainty and the answer (absent in documents written before them).
    medial_sd_total: float | None = None
    medial_ci95: tuple[float, float] | None = None
    medial_uncertainty: Numbers | None = None
    answer: str | None = None  # outside, centred, inside, cannot_tell
    answer_words: str | None = None
    reason: str | None = None
    cop_roll_95: float | None = None
    probabilities: Numbers | None = None  # outside, centred, inside
    people_differ_sd: float | None = None


@dataclass(frozen=True)
class Flag:
    code: str
    text: str
    value: float | None
    threshold: float | None
    unit: str
    source: str
    times: tuple[tuple[float, float], ...]  # [start, end] clip seconds of each occurrence
    bess_error: bool


@dataclass(frozen=True)
class Score:
    value: float
    mdc: float
    parts: Numbers
    inputs: Numbers
    weights: Numbers
    formula: str
    mdc_note: str
    judged: bool = True  # False: the camera moved and nothing showed how; the value is not a result


@dataclass(frozen=True)
class Trial:
    stance_leg: str
    lift_off_s: float
    touch_down_s: float | None
    hold_s: float
    starts_with_clip: bool
    ended_by: str  # touch_down, clip_end, someone_passed, subject_lost (balance.stance.trials.ended_by)
    metrics: Metrics
    decomposition: Decomposition
    tripod: Tripod
    flags: tuple[Flag, ...]
    score: Score


@dataclass(frozen=True)
class ShortPhase:
    stance_leg: str
    start_s: float
    end_s: float
    duration_s: float


@dataclass(frozen=True)
class Document:
    schema_version: str
    tool: Tool
    clip: Clip
    model: Model
    conventions: dict[str, str | float]
    trials: tuple[Trial, ...]
    session_flags: tuple[Flag, ...]
    short_phases: tuple[ShortPhase, ...]
    notes: tuple[str, ...]
    two_view: TwoView | None = None  # two cameras (analyze_pair): the side view and the fused 2-D holds

    def to_json(self) -> dict[str, Any]:
        plain = to_plain(self)
        if self.two_view is None:
            plain.pop("two_view")  # a single-view document stays as it was
        return plain


def json_text(data: dict[str, Any]) -> str:
    """The text of analysis.json for a document's JSON (Document.to_json)."""
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def from_json(data: Any, *, strict: bool = False) -> Document:
    """A parsed analysis.json as a Document; SchemaError names the first field that is missing or wrong.

    strict: refuse keys the types do not know (see the module's docstring); loading ignores them, as a later
    1.x version may add fields.
    """
    if isinstance(data, dict):
        version = data.get("schema_version")
        if isinstance(version, str) and version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise SchemaError("schema_version", f"{version} is not {SCHEMA_VERSION.split('.')[0]}.x")
    return from_plain(Document, data, "", strict=strict)


def load_document(path: Path) -> Document:
    """analysis.json at `path`, checked; ResultsError (one line) when it is missing, unreadable or damaged."""
    path = Path(path)
    todo = "Analyse the clip again to write it anew"
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise ResultsError(f"no saved analysis at {path}", "Give the analysis.json this tool wrote") from exc
    except IsADirectoryError as exc:
        raise ResultsError(f"{path} is a folder", "Give the analysis.json inside it") from exc
    except OSError as exc:
        raise ResultsError(f"cannot read {path} ({exc.strerror})", todo) from exc
    except ValueError as exc:
        raise ResultsError(f"{path} is not a valid analysis.json (not JSON: {exc})", todo) from exc
    try:
        return from_json(data)
    except SchemaError as exc:
        raise ResultsError(f"{path} is not a valid analysis.json ({exc})", todo) from exc


def _plain(analysis: Analysis) -> dict[str, Any]:
    """The analysis's own words and numbers (each stage's to_dict), in the document's layout."""
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
            "min_trial_s": analysis.min_trial_s,
            **{f"metric_{k}": v for k, v in CONVENTIONS.items()},
        },
        "trials": [
            {
                "stance_leg": m.trial.stance_leg,
                "lift_off_s": round(m.trial.lift_off_s, 3),
                "touch_down_s": None if m.trial.touch_down_s is None else round(m.trial.touch_down_s, 3),
                "hold_s": round(m.trial.hold_s, 3),
                "starts_with_clip": m.trial.starts_with_clip,
                "ended_by": ended_by(m.trial, analysis.track),
                "metrics": m.to_dict(),
                **a.to_dict(),
            }
            for k, (m, a) in enumerate(zip(analysis.trials, analysis.assessments, strict=True))
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
        **({} if analysis.two_view is None else {"two_view": analysis.two_view.to_dict()}),
    }


def build_document(analysis: Analysis) -> Document:
    """The results document of an analysis (once per analysis: every output reads this one)."""
    return from_json(_plain(analysis), strict=True)


def to_json(analysis: Analysis) -> dict[str, Any]:
    """The JSON document of an analysis, for callers that only need the dict (the history's tests)."""
    return build_document(analysis).to_json()
