"""balance.pose.crowd on a synthetic figure and census rows made by hand: which frames another person overlaps,
seen by the census, passing between two looks, or seen on one side only (stopping behind the subject, leaving
the picture, or first seen beside them)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from balance.pose.crowd import crowded, leave_out_crowded
from balance.pose.estimate import CROWD_CENSUS_S, PoseTrack

from .synthetic import clip_times, make_track


@pytest.fixture
def track() -> PoseTrack:
    return make_track(clip_times(6.0, 15.0))


def _subject_box(track: PoseTrack) -> tuple[np.ndarray, np.ndarray]:
    xy = track.image_xy.reshape(-1, 2)
    return np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)


def _walker(track: PoseTrack, looks: list[tuple[float, float]], width: float = 60.0) -> PoseTrack:
    """The track with a walker as tall as the subject, seen by the census at (time s, centre x px) looks."""
    lo, hi = _subject_box(track)
    rows = [(t, x - width / 2, lo[1], x + width / 2, hi[1]) for t, x in looks]
    return dataclasses.replace(track, others=np.asarray(rows, dtype=float).reshape(-1, 5))


def _span(track: PoseTrack, mask: np.ndarray) -> tuple[float, float]:
    t = track.t[mask]
    return float(t[0]), float(t[-1])


def test_a_walker_who_stops_behind_the_subject_is_carried_on_to_the_clips_end(track: PoseTrack) -> None:
    """Seen at every look while walking up to the subject, then never again though the census kept looking: she
    went on at her pace and stood behind them (P5's walker copy), so the frames from where she reaches the
    subject to the clip's end are crowded, though no look saw her overlap."""
    lo, hi = _subject_box(track)
    pace = (hi[0] - lo[0]) / 1.0  # a subject's width a second
    start = lo[0] - 2.0 * (hi[0] - lo[0])
    looks = [(t, start + pace * (t - 2.0)) for t in (2.0, 2.5, 3.0)]
    walker = _walker(track, looks)
    mask = crowded(walker)
    assert mask.any()
    first, last = _span(walker, mask)
    assert first > 3.0 + CROWD_CENSUS_S / 2  # she is still apart from the subject at the last look
    assert last == pytest.approx(track.t[-1])
    assert mask[track.t >= first].all()
    # The frames she hides are drawn in, and the note says when.
    drawn, note = leave_out_crowded(walker)
    assert drawn.bridged is not None and np.array_equal(drawn.bridged, mask)
    assert "another person passed" in note


def test_a_newcomer_is_not_carried_back_before_the_first_look_that_saw_them(track: PoseTrack) -> None:
    """Seen first stepping out beside the subject (P9's walker copy, pasted in from 3.9 s): the census looked only
    every 2 s before, so nothing says she stood behind the subject since the clip's start."""
    lo, hi = _subject_box(track)
    w = hi[0] - lo[0]
    walker = _walker(track, [(t, hi[0] + 0.6 * w + 0.5 * w * (t - 3.0)) for t in (3.0, 3.5, 4.0, 4.5, 5.0, 5.5)])
    assert not crowded(walker).any()


def test_a_walker_who_leaves_the_picture_overlaps_no_one_after(track: PoseTrack) -> None:
    lo, hi = _subject_box(track)
    pace = -(hi[0] - lo[0])  # walking away from the subject, to the left
    start = lo[0] - 1.5 * (hi[0] - lo[0])
    walker = _walker(track, [(t, start + pace * (t - 1.0)) for t in (1.0, 1.5)])
    assert not crowded(walker).any()


def test_someone_standing_apart_seen_at_every_look_crowds_no_frame(track: PoseTrack) -> None:
    lo, hi = _subject_box(track)
    x = lo[0] - 1.5 * (hi[0] - lo[0])
    looks = [(t, x) for t in np.arange(0.0, 6.0, CROWD_CENSUS_S)]
    assert not crowded(_walker(track, looks)).any()


def test_a_walker_passing_between_two_looks_is_drawn_along_the_line(track: PoseTrack) -> None:
    lo, hi = _subject_box(track)
    w = hi[0] - lo[0]
    walker = _walker(track, [(2.0, lo[0] - w), (2.5, lo[0] - 0.9 * w), (4.0, hi[0] + w), (4.5, hi[0] + 1.1 * w)])
    first, last = _span(walker, crowded(walker))
    assert 2.5 < first < 3.25 < last < 4.0
