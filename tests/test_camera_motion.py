"""The camera's own motion: followed from the scene (balance.video.motion), judged and taken out of the landmarks
(balance.pose.steady), on pictures moved by a known amount and on a real clip filmed as if hand-held."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from balance.pipeline import Analysis
from balance.pose.steady import camera_motion, in_picture, steady
from balance.results.annotators import roll_note
from balance.results.scene import Scene
from balance.video.motion import LOST, ROW, TRACKED, SceneTracker, as_matrices
from benchmarks.real_clips import LABELS, judge, variant_label

from .conftest import analysed
from .synthetic import clip_times, make_track
from .test_real_clips import _make_variants

W, H = 640, 360
PERSON = (260.0, 40.0, 380.0, 350.0)  # where the "person" stands: corners there are not the scene's


def _scene() -> np.ndarray:
    """A textured picture (blurred noise: corners everywhere) with a bright moving 'person' in the middle."""
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2.0)


def _similarity(dx: float, dy: float, zoom: float, turn_deg: float) -> np.ndarray:
    m = cv2.getRotationMatrix2D((W / 2, H / 2), turn_deg, zoom)
    m[:, 2] += (dx, dy)
    return m


def test_the_scene_tracker_recovers_a_known_motion_and_ignores_the_person() -> None:
    base = _scene()
    tracker = SceneTracker()
    errors = []
    for k in range(40):
        t = k / 30
        m = _similarity(12 * np.sin(2 * np.pi * 0.5 * t), 6 * t, 1 + 0.02 * t, 1.5 * np.sin(2 * np.pi * 0.3 * t))
        frame = cv2.warpAffine(base, m, (W, H), borderMode=cv2.BORDER_REFLECT)
        x0, y0, x1, y1 = (int(v) for v in PERSON)
        frame[y0:y1, x0:x1] = np.roll(base, 7 * k, axis=1)[y0:y1, x0:x1]  # the person moves on their own
        row = tracker.step(frame, [PERSON])
        assert row[6] == TRACKED
        if k == 0:
            first = np.vstack([m, [0, 0, 1]])
        # The row maps this frame's picture into the first frame's: compare at a foot-height point.
        truth = first @ np.linalg.inv(np.vstack([m, [0, 0, 1]]))
        p = np.array([W / 2, 0.9 * H, 1.0])
        errors.append(np.linalg.norm((as_matrices(row)[0] @ p - truth @ p)[:2]))
    assert max(errors) < 0.5  # pixels, on a 640 x 360 picture moved by up to 12 px, zoomed 2 %, turned 1.5 deg


def test_a_plain_picture_gives_no_fit_and_is_lost() -> None:
    tracker = SceneTracker()
    rows = [tracker.step(np.full((H, W, 3), 200, np.uint8), [PERSON]) for _ in range(5)]
    assert [r[6] for r in rows[1:]] == [LOST] * 4


def _rows(n: int, dx: np.ndarray, status: float = TRACKED) -> np.ndarray:
    rows = np.zeros((n, ROW))
    rows[:, 0] = 1.0
    rows[:, 2] = dx
    rows[:, 6] = status
    return rows


@pytest.mark.parametrize(
    ("dx_px", "status", "verdict", "foot"),
    [
        (0.5, TRACKED, "still", True),  # a fraction of a pixel: the fit's own noise
        (30.0, TRACKED, "corrected", True),  # 30 px of a 640 px frame
        (300.0, TRACKED, "too_much", False),
        (30.0, LOST, "unknown", False),  # nothing to follow
    ],
)
def test_the_verdict_follows_how_far_the_picture_moved_and_whether_it_could_be_followed(
    dx_px: float, status: float, verdict: str, foot: bool
) -> None:
    t = clip_times(2.0)
    track = make_track(t)
    rows = _rows(len(t), dx_px * np.sin(np.pi * t), status)
    rows[0, 6] = TRACKED
    motion = camera_motion(replace(track, camera=rows))
    assert motion.verdict == verdict
    assert motion.foot_judgeable is foot
    d = motion.to_dict()
    assert d["verdict"] == verdict and d["foot_judged"] is foot
    assert set(d["series"]) == {"t_s", "shift_x", "shift_y", "zoom", "turn_deg"}


def test_correcting_and_drawing_back_are_inverse() -> None:
    t = clip_times(2.0)
    track = make_track(t)
    rows = _rows(len(t), 40 * np.sin(np.pi * t))
    moved = replace(track, camera=rows)
    motion = camera_motion(moved)
    fixed = steady(moved, motion)
    # The scene's coordinates are the picture's shifted back: a point the camera moved by dx comes back by dx.
    np.testing.assert_allclose(fixed.image_xy[:, :, 0], track.image_xy[:, :, 0] + rows[:, 2:3], atol=1e-9)
    np.testing.assert_allclose(in_picture(motion, fixed.image_xy), track.image_xy, atol=1e-9)
    # A track made without the scene (the live test) is left as it is.
    assert steady(track, camera_motion(track)) is track


@pytest.fixture(scope="module")
def handheld(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Analysis]:
    mv = _make_variants()
    source = next(s for s in mv.SOURCES if s.tag == "P5")
    out = tmp_path_factory.mktemp("handheld")
    path = mv.make(source, "handheld", out, mv.ffmpeg_exe())
    result = analysed(path)
    assert isinstance(result, Analysis), result
    return path, result


@pytest.mark.slow
def test_a_hand_held_copy_is_corrected_and_judged_as_its_original(handheld: tuple[Path, Analysis]) -> None:
    path, result = handheld
    base = next(lab for lab in LABELS if lab.tag == "P5")
    j = judge(variant_label(base, "handheld", None, path.parent), result)
    assert j.leg_ok and j.hold_ok and not j.false_flags, j.details
    doc = result.trials[0].to_dict()["camera_motion"]
    assert doc["verdict"] == "corrected" and doc["corrected"] and doc["foot_judged"]
    # The copy drifts by up to 3 % of the frame each way plus a 4 % zoom-in and turns +-2 degrees
    # (scripts/make_variants.py): what was found is of that size.
    assert 0.03 < doc["shift_range"] < 0.09
    assert 2.5 < doc["turn_range_deg"] < 5.0
    assert len(doc["series"]["t_s"]) >= 15  # about 5 a second over 4 s
    assert "foot_shift" not in {f.code for a in result.assessments for f in a.flags}
    scene = Scene(result)
    assert "camera moved: corrected" in (roll_note(scene.at(1.0)) or "")
