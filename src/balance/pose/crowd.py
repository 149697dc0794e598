"""A second person in the picture: the frames where someone else passes the subject are left out.

MediaPipe's pose model mixes up overlapping people: when someone walks behind or in front of the subject, the
subject's landmarks are pulled towards the other body for as long as they overlap (9 px, 3 % of a leg length,
on the walker copy of P13, benchmarks/real_clips.py), and a steady hold reads as a wobble. The census in
balance.pose.estimate records where the others are, every half second once anyone else is in view; a frame
whose subject overlaps one of them, at a census within half a second of it, is bridged from the frames either
side (the stance goes on through it, decided by the frames around it; its sway is not measured), and the result says
when. Pure functions of arrays.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from balance.pose.estimate import CROWD_CENSUS_S, PoseTrack

# A frame counts as crowded when another person's landmark box covers at least this share of the subject's:
# about half a slim walker's box inside a standing subject's (on the walker copies the subject's landmarks move
# once the bodies overlap in the picture, not while they are only side by side).
MIN_OVERLAP = 0.2
# Longer than this, someone is standing beside the subject rather than passing: their frames are kept (the
# result would be mostly gaps) and the note says the result may suffer.
MAX_LEFT_OUT_S = 3.0
# Someone out of the census's sight for longer than this has gone somewhere else, not past the subject.
MAX_UNSEEN_S = 4.0


def _sightings(others: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """The census rows grouped by census time: (time, (k, 4) boxes)."""
    times = np.unique(others[:, 0])
    return [(float(t), others[others[:, 0] == t, 1:]) for t in times]


def _passes(others: np.ndarray) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """Where the others went out of the census's sight and came back: (from s, to s, box then, box again). Once
    someone else is in view the census looks every CROWD_CENSUS_S; the pose detector does not see two people who
    overlap (it keeps one of them), so a gap in the sightings is someone walking past the subject, from where
    they were last seen to where they are seen again (the nearest box then)."""
    seen = _sightings(others)
    out = []
    for (t0, before), (t1, after) in zip(seen[:-1], seen[1:], strict=True):
        if not 1.5 * CROWD_CENSUS_S < t1 - t0 <= MAX_UNSEEN_S:
            continue
        for box in before:
            again = _nearest(after, box)
            out.append((t0, t1, box, again))
    return out


def _gone(others: np.ndarray, t_last: float) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """Where someone went out of the census's sight for good before the clip's last analysed frame (t_last):
    (from s, to s, their last box, that box carried on across the picture at the pace its centre had between the
    census's last two looks at them). After a sighting the census looks every CROWD_CENSUS_S, and it sees anyone
    the subject does not hide (it paints the subject over, balance.pose.landmarker): someone never seen again
    either left the picture (carried out of it, they overlap no one) or stays behind the subject (P5's walker
    copy: seen at every look as she nears the subject, then never again until the clip ends). Before a first
    sighting the census looked only every CENSUS_EVERY_S, so nothing says where a newcomer was: they are not
    carried back."""
    seen = _sightings(others)
    t0, boxes = seen[-1]
    span = min(t_last - t0, MAX_UNSEEN_S)
    if span <= 1.5 * CROWD_CENSUS_S:
        return []  # the clip ends before the census would have looked again
    before = seen[-2] if len(seen) > 1 and t0 - seen[-2][0] <= 1.5 * CROWD_CENSUS_S else None
    out = []
    for box in boxes:
        # Across the picture only (a box's height changes as the subject hides more or less of them), and the
        # larger of the two looks' sizes (the nearer look may see only the part the subject does not hide).
        pace, size = 0.0, box[2:] - box[:2]
        if before is not None:
            near = _nearest(before[1], box)
            pace = float(_centre(box)[0] - _centre(near)[0]) / (t0 - before[0])
            size = np.maximum(size, near[2:] - near[:2])
        then = np.r_[_centre(box) - size / 2, _centre(box) + size / 2]
        out.append((t0, t0 + span, then, then + pace * span * np.array([1.0, 0.0, 1.0, 0.0])))
    return out


def _nearest(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Of a look's boxes, the one whose centre is nearest `box`'s (the same person, a look earlier or later)."""
    return min(boxes, key=lambda b: float(np.linalg.norm(_centre(b) - _centre(box))))


def _centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def _overlap(lo: np.ndarray, hi: np.ndarray, area: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Per frame, whether `box` ((N, 4) or (4,)) covers MIN_OVERLAP of the subject's box (lo, hi, area)."""
    box = np.broadcast_to(box, (len(lo), 4))
    w = np.clip(np.minimum(hi[:, 0], box[:, 2]) - np.maximum(lo[:, 0], box[:, 0]), 0, None)
    h = np.clip(np.minimum(hi[:, 1], box[:, 3]) - np.maximum(lo[:, 1], box[:, 1]), 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(w * h / area) >= MIN_OVERLAP


def crowded(track: PoseTrack) -> np.ndarray:
    """Per analysed frame, whether another person overlaps the subject: seen overlapping by a census within
    CROWD_CENSUS_S, walking past unseen between two censuses (their box carried along the straight line), or
    never seen after a last sighting (carried on at their pace, and hidden by the subject from where they
    meet)."""
    out = np.zeros(len(track), dtype=bool)
    if not len(track.others):
        return out
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanmin(track.image_xy, axis=1), np.nanmax(track.image_xy, axis=1)  # the subject's box
    area = np.prod(hi - lo, axis=1)
    for row in track.others:
        out |= (np.abs(track.t - row[0]) <= CROWD_CENSUS_S) & _overlap(lo, hi, area, row[1:])
    passes = [(*p, False) for p in _passes(track.others)]
    for t0, t1, then, again, gone in passes + [(*g, True) for g in _gone(track.others, float(track.t[-1]))]:
        inside = np.flatnonzero((track.t >= t0) & (track.t <= t1))
        share = ((track.t[inside] - t0) / (t1 - t0))[:, None]
        met = _overlap(lo[inside], hi[inside], area[inside], then + share * (again - then))
        if gone and met.any():
            met[np.argmax(met) :] = True  # never seen again: from where they meet the subject, hidden by them
        out[inside[met]] = True
    return out


def leave_out_crowded(track: PoseTrack) -> tuple[PoseTrack, str]:
    """The track with the frames where someone else passes the subject left out, and a note saying when ("" if
    nobody did)."""
    mask = crowded(track)
    if not mask.any():
        return track, ""
    spans = [(float(track.t[a]), float(track.t[b - 1])) for a, b in true_runs(mask)]
    when = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in spans)
    if max(b - a for a, b in spans) > MAX_LEFT_OUT_S:
        return track, (
            f"another person overlapped the one standing on one leg ({when}); the pose model can mix up "
            "overlapping people, so the sway there may be theirs"
        )
    return replace(bridge(track, mask), bridged=mask), (
        f"another person passed the one standing on one leg ({when}); the landmarks there were bridged from "
        "either side, as the pose model mixes up overlapping people"
    )


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True frames in a boolean mask, stop exclusive."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def bridge(track: PoseTrack, mask: np.ndarray) -> PoseTrack:
    """The track with the masked frames' landmarks drawn straight between the frames either side (the stance
    and its timing go on through them; sway there is not measured but bridged, as any gap is)."""
    keep = np.flatnonzero(~mask)
    if not len(keep):
        return track
    gone = np.flatnonzero(mask)

    def bridge(a: np.ndarray) -> np.ndarray:
        out = a.copy()
        flat = out.reshape(len(out), -1)
        src = a.reshape(len(a), -1)
        for k in range(flat.shape[1]):
            flat[gone, k] = np.interp(track.t[gone], track.t[keep], src[keep, k])
        return out

    return replace(track, image_xy=bridge(track.image_xy), image_z=bridge(track.image_z), world=bridge(track.world))
