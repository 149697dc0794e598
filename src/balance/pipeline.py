"""The whole analysis of one clip: video -> PoseTrack -> Trials -> SwayMetrics, as one library call.

Raises the typed errors of `balance.errors` for anything wrong with the input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from balance.assess.assessment import Assessment, assess
from balance.assess.flags import Flag, asymmetry_flags
from balance.errors import BalanceError, StanceError, UsageError
from balance.measure.signals import LOWPASS_HZ
from balance.measure.trial import SwayMetrics, clip_vertical, foot_wander, measure
from balance.pose.crowd import leave_out_crowded
from balance.pose.estimate import PoseTrack, estimate_pose
from balance.pose.models import (
    DEFAULT_MAX_FPS,
    DEFAULT_MODEL,
    MIN_ANALYSIS_FPS,
    RATE_TOLERANCE,
    analysed_fps,
    rate_limit,
)
from balance.pose.sides import repair_sides
from balance.pose.steady import CameraMotion, camera_motion, steady
from balance.pose.upright import require_upright
from balance.stance.trials import MIN_REPORTED_PHASE_S, MIN_TRIAL_S, StanceTimeline, find_trials, require_trials
from balance.twoview.pair import combine
from balance.video.reader import VideoInfo, probe

if TYPE_CHECKING:
    from balance.twoview.fuse import TwoView

# The analysis says it thinned the clip when it kept fewer than this share of its frames (a clip whose frames are
# all kept may still fall a little short of its header's count).
THINNED_SHARE = 0.95


@dataclass(frozen=True)
class Analysis:
    clip: VideoInfo
    track: PoseTrack
    timeline: StanceTimeline
    trials: tuple[SwayMetrics, ...]
    assessments: tuple[Assessment, ...]  # one per trial, same order
    session_flags: tuple[Flag, ...]  # across trials: left/right asymmetry
    height_cm: float | None
    notes: tuple[str, ...]
    min_trial_s: float = MIN_TRIAL_S  # the shortest hold scored as a trial in this analysis
    two_view: TwoView | None = None  # with a side clip (analyze_pair): the fused 2-D trials
    # The camera's own motion, removed from `track` (which is in the scene's coordinates) before measuring.
    camera: CameraMotion | None = None


# Standing heights a person tested here may have: a young child to the tallest adults recorded; outside
# it the number is a typo (metres, inches) and would scale sway into cm wrongly.
MIN_HEIGHT_CM, MAX_HEIGHT_CM = 80.0, 250.0


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse a clip: every choice that changes the result (batch runs and the web app key results on it)."""

    model: str = DEFAULT_MODEL  # lite | full | heavy | a path to a PoseLandmarker .task file
    height_cm: float | None = None  # body height: sway in cm instead of % of leg length
    max_fps: float | None = DEFAULT_MAX_FPS  # frames per second analysed at most (None: every frame)
    workers: int | None = None  # parallel pose processes (None: as many as pay for the clip's length)
    use_cache: bool = True  # reuse the pose of a clip already seen with the same model
    min_trial_s: float = MIN_TRIAL_S  # shortest one-leg hold scored as a trial (short lab recordings: less)

    def __post_init__(self) -> None:
        if self.max_fps is not None and not (math.isfinite(self.max_fps) and self.max_fps > 0):
            raise UsageError(
                f"a frame-rate limit of {self.max_fps:g} is not a number of frames per second",
                f"Give a positive number, at least {MIN_ANALYSIS_FPS:g} (the default is {DEFAULT_MAX_FPS:g})",
                option="max_fps",
            )
        if self.max_fps is not None and self.max_fps < MIN_ANALYSIS_FPS:
            raise UsageError(
                f"a frame-rate limit of {self.max_fps:g} per second is too low to carry the sway signals, which are "
                f"low-passed at {LOWPASS_HZ:g} Hz",
                f"Give at least {MIN_ANALYSIS_FPS:g} frames per second (the default is {DEFAULT_MAX_FPS:g})",
                option="max_fps",
            )
        if self.workers is not None and self.workers < 1:
            raise UsageError(f"{self.workers} pose processes cannot run a clip", "Give 1 or more", option="workers")
        if not (math.isfinite(self.min_trial_s) and self.min_trial_s >= MIN_REPORTED_PHASE_S):
            raise UsageError(
                f"a minimum trial of {self.min_trial_s:g} s is shorter than a step",
                f"Give at least {MIN_REPORTED_PHASE_S:g} s (the default is {MIN_TRIAL_S:g})",
                option="min_trial_s",
            )
        if self.height_cm is not None and not (
            math.isfinite(self.height_cm) and MIN_HEIGHT_CM <= self.height_cm <= MAX_HEIGHT_CM
        ):
            raise UsageError(
                f"{self.height_cm:g} cm is not a plausible standing height ({MIN_HEIGHT_CM:g}-{MAX_HEIGHT_CM:g} cm)",
                "Give the person's height in cm",
                option="height_cm",
            )

    def rate_limit(self, clip: VideoInfo) -> float | None:
        """The limit this clip's frames are thinned by (balance.pose.models.rate_limit)."""
        return rate_limit(self.max_fps, clip.fps_nominal)

    def check_rate(self, clip: VideoInfo) -> None:
        """Refuse a limit that thins this clip to too few frames a second for the low-pass (UsageError)."""
        rate = analysed_fps(self.rate_limit(clip), clip.fps_nominal)
        if rate >= MIN_ANALYSIS_FPS * (1 - RATE_TOLERANCE) or rate >= clip.fps_nominal:
            return
        k = math.floor(clip.fps_nominal / (MIN_ANALYSIS_FPS * (1 - RATE_TOLERANCE)))
        raise UsageError(
            f"a frame-rate limit of {self.max_fps:g} keeps one frame in {round(clip.fps_nominal / rate)} "
            f"of this {clip.fps_nominal:.2f} fps clip, {rate:.1f} per second: too few for the {LOWPASS_HZ:g} Hz "
            "low-pass of the sway signals",
            f"Give at least {math.ceil(clip.fps_nominal / max(k, 1)):g}, or 0 for every frame",
            option="max_fps",
        )


def analyze(
    path: str | Path,
    options: AnalysisOptions | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    **fields: Any,
) -> Analysis:
    """Analyse the clip at `path`; `fields` override single options (`analyze(clip, model="lite")`)."""
    opts = replace(options or AnalysisOptions(), **fields)
    model, height_cm, max_fps, workers, use_cache = (
        opts.model,
        opts.height_cm,
        opts.max_fps,
        opts.workers,
        opts.use_cache,
    )
    clip = probe(path)
    opts.check_rate(clip)
    pose = partial(estimate_pose, clip, model, max_fps=max_fps, workers=workers, use_cache=use_cache, progress=progress)
    raw, passed = leave_out_crowded(pose())
    camera = camera_motion(raw)
    track, facing = repair_sides(steady(raw, camera))
    require_upright(track, clip.path.name)
    duration = float(track.t[-1] - track.t[0]) if len(track) > 1 else 0.0
    if track.detected.sum() < 2 and duration < opts.min_trial_s:
        # Too few frames to find a person in is first of all too short a clip.
        raise StanceError(
            f"the clip is {duration:.1f} s long ({len(track)} frame{'s' * (len(track) != 1)} analysed), shorter than "
            f"the {opts.min_trial_s:g} s minimum single-leg trial",
            "Record the whole hold, 30-60 s per leg",
        )
    timeline = find_trials(track, opts.min_trial_s)
    crowd = ""
    if track.people_in_view > 1:
        crowd = f"{track.people_in_view} people were in view"
        if not timeline.trials:
            # The tracker followed someone who never stood on one leg: hide them and follow another person.
            other_raw, other_passed = leave_out_crowded(pose(hide=raw))
            other_camera = camera_motion(other_raw)
            other, other_facing = repair_sides(steady(other_raw, other_camera))
            other_timeline = find_trials(other, opts.min_trial_s)
            if other_timeline.trials:
                track, timeline, facing, camera = other, other_timeline, other_facing, other_camera
                passed = other_passed
                crowd += "; the one standing on one leg was analysed"
        crowd += ": film one person at a time for the most reliable result"
    try:
        trials = require_trials(timeline, duration, opts.min_trial_s)
    except BalanceError as exc:
        if crowd:
            raise type(exc)(f"{exc.what} ({crowd.split(':')[0]})", exc.todo) from exc
        raise
    camera = camera.seen_moving(max(foot_wander(track, t) for t in trials))
    moved = (
        "the standing foot moved across the picture, so the camera moved, and the background is too plain to "
        "follow it: its motion is in the sway, so wobble, near losses of balance and foot shifts are not judged "
        "and the score is not given; prop the phone up, or film where the background has some texture"
    )
    notes = [n for n in (crowd, passed, moved if not camera.sway_judgeable else "") if n]
    if track.truncated:
        notes.append(
            f"the clip is damaged: only the first {track.t[-1]:.1f} s of about {clip.duration_s:.1f} s "
            "could be decoded and analysed"
        )
    if not track.timestamps_from_container:
        notes.append("the container has no usable timestamps; times assume its nominal frame rate")
    if len(track) < THINNED_SHARE * track.frames_in_clip:
        # The clip's own rate from its frames, not its header: a browser's recording comes at whatever rate the
        # machine managed, and its MP4 copy's header gives the timestamps' base rate (30 for 11.6 frames a second).
        clip_fps = track.fps * track.frames_in_clip / len(track)
        notes.append(
            f"analysed at {track.fps:.1f} of the clip's {clip_fps:.1f} frames per second "
            "(sway lies below 5 Hz; see README)"
        )
    vertical = clip_vertical(track, timeline.state, trials)
    measured = []
    for trial in trials:
        try:
            measured.append(measure(track, trial, height_cm, vertical, facing, camera))
        except ValueError as exc:  # e.g. the stance foot hidden for the whole hold
            notes.append(f"the {trial.stance_leg}-leg trial at {trial.lift_off_s:.1f} s could not be measured: {exc}")
    if not measured:
        raise StanceError(
            "single-leg stance was found but the landmarks were too unreliable to measure sway",
            "Film in good light with the whole body and both feet in the picture",
        )
    assessments = tuple(assess(track, m) for m in measured)
    session = asymmetry_flags(
        [(m, a.score.value) for m, a in zip(measured, assessments, strict=True) if a.score.judged]
    )
    return Analysis(
        clip,
        track,
        timeline,
        tuple(measured),
        assessments,
        session,
        height_cm,
        tuple(notes),
        opts.min_trial_s,
        camera=camera,
    )


def analyze_pair(
    front: str | Path,
    side: str | Path,
    options: AnalysisOptions | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    **fields: Any,
) -> Analysis:
    """Analyse a front and a side clip of one hold (each as `analyze` does) and fuse them (balance.twoview).

    Returns the front view's Analysis with `two_view` set: the side clip's analysis, the pairing, the offset
    between the clips and the 2-D trials. The clips may come in either order: the more front-on is the front.
    Errors name the clip they are about; PairError when the two do not make a pair.
    """
    opts = replace(options or AnalysisOptions(), **fields)
    views = []
    for role, path in (("front", front), ("side", side)):
        try:
            views.append(analyze(path, opts, progress=progress))
        except BalanceError as exc:
            raise type(exc)(f"the {role} clip {Path(path).name}: {exc.what}", exc.todo, option=exc.option) from exc
    front_view, fused = combine(views[0], views[1])
    return replace(front_view, two_view=fused)
