"""The whole analysis of one clip: video -> PoseTrack -> Trials -> SwayMetrics, as one library call.

Raises the typed errors of `balance.errors` for anything wrong with the input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from balance.assess.assessment import Assessment, assess
from balance.assess.flags import Flag, asymmetry_flags
from balance.errors import BalanceError, StanceError
from balance.measure.trial import SwayMetrics, measure
from balance.pose.estimate import DEFAULT_MAX_FPS, DEFAULT_MODEL, PoseTrack, estimate_pose
from balance.pose.sides import consistent_sides
from balance.stance.trials import StanceTimeline, find_trials, require_trials
from balance.video.reader import VideoInfo, probe


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


@dataclass(frozen=True)
class AnalysisOptions:
    """How to analyse a clip: every choice that changes the result (batch runs and the web app key results on it)."""

    model: str = DEFAULT_MODEL  # lite | full | heavy | a path to a PoseLandmarker .task file
    height_cm: float | None = None  # body height: sway in cm instead of % of leg length
    max_fps: float | None = DEFAULT_MAX_FPS  # frames per second analysed at most (None: every frame)
    workers: int | None = None  # parallel pose processes (None: as many as pay for the clip's length)
    use_cache: bool = True  # reuse the pose of a clip already seen with the same model


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
    pose = partial(
        estimate_pose, clip.path, model, max_fps=max_fps, workers=workers, use_cache=use_cache, progress=progress
    )
    track = consistent_sides(pose())
    timeline = find_trials(track)
    duration = float(track.t[-1] - track.t[0]) if len(track) > 1 else 0.0
    crowd = ""
    if track.people_in_view > 1:
        crowd = f"{track.people_in_view} people were in view"
        if not timeline.trials:
            # The tracker followed someone who never stood on one leg: hide them and follow another person.
            other = consistent_sides(pose(hide=track))
            other_timeline = find_trials(other)
            if other_timeline.trials:
                track, timeline = other, other_timeline
                crowd += "; the one standing on one leg was analysed"
        crowd += ": film one person at a time for the most reliable result"
    try:
        trials = require_trials(timeline, duration)
    except BalanceError as exc:
        if crowd:
            raise type(exc)(f"{exc.what} ({crowd.split(':')[0]})", exc.todo) from exc
        raise
    notes = [crowd] if crowd else []
    if track.truncated:
        notes.append(
            f"the clip is damaged: only the first {track.t[-1]:.1f} s of about {clip.duration_s:.1f} s "
            "could be decoded and analysed"
        )
    if not track.timestamps_from_container:
        notes.append("the container has no usable timestamps; times assume its nominal frame rate")
    if max_fps and clip.fps_nominal > max_fps * 1.05:
        notes.append(
            f"analysed at {track.fps:.1f} of the clip's {clip.fps_nominal:.1f} frames per second "
            "(sway lies below 5 Hz; see README)"
        )
    measured = []
    for trial in trials:
        try:
            measured.append(measure(track, trial, height_cm))
        except ValueError as exc:  # e.g. the stance foot hidden for the whole hold
            notes.append(f"the {trial.stance_leg}-leg trial at {trial.lift_off_s:.1f} s could not be measured: {exc}")
    if not measured:
        raise StanceError(
            "single-leg stance was found but the landmarks were too unreliable to measure sway",
            "Film in good light with the whole body and both feet in the picture",
        )
    assessments = tuple(assess(track, m) for m in measured)
    session = asymmetry_flags([(m, a.score.value) for m, a in zip(measured, assessments, strict=True)])
    return Analysis(clip, track, timeline, tuple(measured), assessments, session, height_cm, tuple(notes))
