"""The results document's two-camera part (`two_view`): the side clip, the pairing, the offset between the clips
and the fused 2-D holds (balance.twoview); absent from single-view documents."""

from __future__ import annotations

from dataclasses import dataclass

from balance.results.trace_record import Numbers, Trace, Words


@dataclass(frozen=True)
class SideClip:
    """The second camera's clip of a two-view analysis (the document's `clip` is the front view's)."""

    path: str
    sha256: str
    width: int
    height: int
    fps_nominal: float
    duration_s: float
    analysed_fps: float


@dataclass(frozen=True)
class Pairing:
    """Which clip is the front view and how far apart the cameras look (twoview/pairing.py)."""

    front_view_ratio: float
    side_view_ratio: float
    swapped: bool  # the clip given as the side view was taken as the front view
    separation_deg: float  # angle between the cameras' horizontal picture axes, 0-90
    separation_sd_deg: float
    note: str
    method: str
    units: Words


@dataclass(frozen=True)
class Sync:
    """The offset between the two clips, found from the movement (twoview/sync.py): t_front = t_side + offset_s."""

    offset_s: float
    offset_sd_s: float
    peak_r: float
    grid_hz: float
    per_signal_s: Numbers
    overlap_s: float
    method: str
    convention: str
    units: Words


@dataclass(frozen=True)
class AxisPosition:
    """The centre of mass's position over the foot along one axis, with its 95 % interval (None: cannot tell)."""

    mean: float | None
    sd_total: float | None
    ci95: tuple[float, float] | None
    words: str
    answer: str | None = None  # the side-to-side axis: outside, centred, inside, cannot_tell


@dataclass(frozen=True)
class PairTripod:
    medial: AxisPosition  # from the front view
    fore_aft: AxisPosition  # from the side view
    units: Words


@dataclass(frozen=True)
class PairEvents:
    """Lift-off and touch-down as each view saw them, on the front clip's clock."""

    lift_off_s: dict[str, float | None]
    touch_down_s: dict[str, float | None]
    tolerance_s: float
    disagree: bool


@dataclass(frozen=True)
class PairTrial:
    """One hold both views see, fused: ml from the front view, ap from the side view (twoview/fuse.py)."""

    front_trial: int  # index into `trials` (the front view's) and into the side view's trials
    side_trial: int
    stance_leg: str
    analysed_from_s: float
    analysed_to_s: float
    sample_rate_hz: float
    unit: str
    axes: tuple[str, ...]
    traces: dict[str, Trace]  # two axes each: the 2-D stabilogram's metrics
    ellipse_area_offset_sd: float
    tripod: PairTripod
    events: PairEvents
    notes: tuple[str, ...]
    units: Words
    axes_convention: str


@dataclass(frozen=True)
class TwoView:
    """A two-camera analysis: the side clip, the pairing, the offset and the fused holds."""

    side_clip: SideClip
    pairing: Pairing
    sync: Sync
    trials: tuple[PairTrial, ...]
    notes: tuple[str, ...]
