"""The annotated video: decodes, has the source's frame count and rate, and draws on the body only.

Runs the real pipeline on the licensed 4 s clip (and the 30 s synthetic hold when present); flags and codecs checked.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from balance.pipeline import Analysis
from balance.pose import landmarks as lm
from balance.pose import skeleton
from balance.results import document
from balance.results import video as annotate
from balance.results.annotators import ShownFlag
from balance.results.document import build_document
from balance.results.video import Overlay, flags_in, write_annotated
from balance.video import writer
from balance.video.reader import VideoReader

from .conftest import SAMPLES, analysed

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
SWAY_30S = SAMPLES / "synthetic" / "sway_left_clean.mp4"


def _analysis(path: Path) -> Analysis:
    result = analysed(path)
    if not isinstance(result, Analysis):
        pytest.fail(f"{path.name} should analyse: {result}")
    return result


def _frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    cap.release()
    return frames


def _fourcc(path: Path) -> str:
    cap = cv2.VideoCapture(str(path))
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    cap.release()
    return "".join(chr((code >> s) & 0xFF) for s in (0, 8, 16, 24)).lower()


def _skeleton_and_far_masks(xy: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels on the drawn bones, and pixels far from every landmark in the picture's middle band (where
    no panel, legend or inset sits)."""
    on = np.zeros((h, w), np.uint8)
    for a, b in skeleton.BODY_BONES + skeleton.LEG_BONES["left"] + skeleton.LEG_BONES["right"]:
        if np.all(np.isfinite(xy[[a, b]])):
            pa, pb = (tuple(int(round(v)) for v in xy[j]) for j in (a, b))
            cv2.line(on, pa, pb, 1, 2)
    yy, xx = np.mgrid[0:h, 0:w]
    pts = xy[np.all(np.isfinite(xy), axis=1)]
    dist = np.min(np.hypot(xx[..., None] - pts[:, 0], yy[..., None] - pts[:, 1]), axis=2)
    far = (dist > 0.2 * h) & (yy > 0.4 * h) & (yy < 0.85 * h)
    return on.astype(bool), far


@pytest.fixture(scope="module")
def pose1_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, annotate.Encoded]:
    analysis = _analysis(POSE_1)
    # No flags here: their labels are meant to sit beside the body, which the far-from-body check forbids.
    encoded, _ = write_annotated(analysis, tmp_path_factory.mktemp("annotated") / "annotated.mp4", flags=())
    return analysis, encoded


@pytest.mark.slow
def test_the_measured_frames_at_their_rate_and_the_sources_size(
    pose1_video: tuple[Analysis, annotate.Encoded],
) -> None:
    """The 30 fps clip analysed at 15: the video is its 60 measured frames, at 15 a second (as long as the clip)."""
    analysis, encoded = pose1_video
    with VideoReader(POSE_1) as reader:
        source = sum(1 for _ in reader)
    out = _frames(encoded.path)
    assert source == analysis.track.frames_in_clip == 120
    assert encoded.frames == len(out) == len(analysis.track) == 60
    cap = cv2.VideoCapture(str(encoded.path))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(analysis.track.fps, abs=0.01)
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(15.0, abs=0.05)
    cap.release()
    assert out[0].shape[:2] == (analysis.clip.height, analysis.clip.width)


@pytest.mark.slow
def test_browser_codec_when_ffmpeg_is_there(pose1_video: tuple[Analysis, annotate.Encoded]) -> None:
    _, encoded = pose1_video
    if writer.ffmpeg_with_x264() is None:
        assert encoded.codec == "mpeg4" and encoded.note
    else:
        assert encoded.codec == "h264" and encoded.note is None
        assert _fourcc(encoded.path) in ("avc1", "h264")


@pytest.mark.slow
def test_overlay_on_the_skeleton_and_not_far_from_the_body(pose1_video: tuple[Analysis, annotate.Encoded]) -> None:
    analysis, encoded = pose1_video
    source, out = _frames(POSE_1), _frames(encoded.path)
    for k in (5, 30, 55):  # the video's k-th frame: the k-th measured one
        i = int(analysis.track.frame_index[k])
        diff = np.abs(source[i].astype(np.int16) - out[k].astype(np.int16)).max(axis=2)
        on, far = _skeleton_and_far_masks(analysis.track.image_xy[k], *diff.shape)
        assert on.sum() > 500 and far.sum() > 20_000
        assert diff[on].mean() > 40, f"frame {i}: no skeleton drawn"
        # Re-encoding alone moves pixels by a few levels (about 3.6 measured); drawing moves them by 100+.
        assert diff[far].mean() < 8, f"frame {i}: something drawn far from the body"


@pytest.mark.slow
def test_the_video_shows_each_measured_frame_with_its_own_pose(tmp_path: Path) -> None:
    """A track of every other measured frame: the video is those frames, in order, each with its own skeleton."""
    full = _analysis(POSE_1)
    keep = slice(None, None, 2)
    per_frame = ("t", "frame_index", "image_xy", "image_z", "visibility", "presence", "world")
    track = dataclasses.replace(full.track, **{f: getattr(full.track, f)[keep] for f in per_frame})
    timeline = dataclasses.replace(full.timeline, state=full.timeline.state[keep])
    thinned = dataclasses.replace(full, track=track, timeline=timeline, trials=(), assessments=())
    encoded, _ = write_annotated(thinned, tmp_path / "thin.mp4", flags=())
    out, source = _frames(encoded.path), _frames(POSE_1)
    assert len(out) == len(track) == len(full.track) // 2 == 30 and len(source) == 120
    for k in (5, 16, 29):
        i = int(track.frame_index[k])  # the source frame the video's k-th frame shows
        diff = np.abs(source[i].astype(np.int16) - out[k].astype(np.int16)).max(axis=2)
        on, far = _skeleton_and_far_masks(track.image_xy[k], *diff.shape)
        assert diff[on].mean() > 40, f"video frame {k}: no skeleton on source frame {i}"
        assert diff[far].mean() < 8, f"video frame {k} is not source frame {i}"


@pytest.mark.slow
def test_flags_in_reads_times_and_whole_trial_flags() -> None:
    first = build_document(_analysis(POSE_1)).trials[0]

    def flag(code: str, text: str, value: float | None = None, unit: str = "", times: Any = ()) -> document.Flag:
        return document.Flag(code, text, value, None, unit, "", times, False)

    trial = dataclasses.replace(
        first,
        metrics=dataclasses.replace(first.metrics, analysed_from_s=2.0),
        flags=(
            flag("hip_drop", "Hip drop: ...", 5.4, "deg", ((3.0, 7.0),)),
            flag("touch_down", "The free foot touched down", times=((9.5, 9.5),)),
            flag("weight_outside", "Weight on the outside ..."),
            flag("new_kind", "Something new: details", times=((4.0, 4.0),)),
        ),
    )
    got = {f.code: f for f in flags_in(trial)}
    assert got["hip_drop"] == ShownFlag("hip_drop", "hip drop 5 deg", 3.0, 7.0, "hip")
    assert got["touch_down"].anchor == "free_foot"
    assert got["touch_down"].end_s == pytest.approx(9.5 + annotate.FLAG_SHOW_S)
    assert (got["weight_outside"].start_s, got["weight_outside"].anchor) == (2.0, "foot")
    assert (got["new_kind"].label, got["new_kind"].anchor, got["new_kind"].start_s) == ("Something new", "com", 4.0)
    assert flags_in(dataclasses.replace(first, flags=())) == []


@pytest.mark.slow
def test_a_flag_shows_near_its_body_part_only_while_it_lasts() -> None:
    analysis = _analysis(POSE_1)
    frame = _frames(POSE_1)[int(analysis.track.frame_index[30])]
    t = float(analysis.track.t[30])
    flag = ShownFlag("hip_drop", "hip drop 5 deg", t - 0.5, t + 0.5, "hip")
    plain = Overlay(analysis).draw(frame, t)
    flagged = Overlay(analysis, [flag])
    during, after = flagged.draw(frame, t), flagged.draw(frame, t + 1.0)
    assert np.array_equal(after, Overlay(analysis).draw(frame, t + 1.0))
    diff = np.abs(during.astype(np.int16) - plain.astype(np.int16)).max(axis=2)
    ys, xs = np.nonzero(diff > 30)
    assert len(ys) > 300
    free_hip = analysis.track.image_xy[30, lm.HIP[lm.other(analysis.trials[0].trial.stance_leg)]]
    h = frame.shape[0]
    # The label and its leader line sit within about a third of the picture of the hip.
    assert np.all(np.abs(ys - free_hip[1]) < 0.2 * h)
    assert np.median(np.abs(xs - free_hip[0])) < 0.35 * h


@pytest.mark.slow
def test_opencv_fallback_when_no_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "ffmpeg_with_x264", lambda: None)
    encoded, _ = write_annotated(_analysis(POSE_1), tmp_path / "a.mp4", flags=())
    assert encoded.codec == "mpeg4" and "browser" in (encoded.note or "")
    assert len(_frames(encoded.path)) == 60  # the measured frames (the 30 fps clip analysed at 15)
    assert list(tmp_path.iterdir()) == [encoded.path]  # no temporary file left


@pytest.mark.slow
def test_thirty_second_hold(tmp_path: Path) -> None:
    if not SWAY_30S.is_file():
        pytest.skip(f"{SWAY_30S} not found")
    analysis = _analysis(SWAY_30S)
    encoded, snapshot = write_annotated(analysis, tmp_path / "annotated.mp4", snapshot_at_s=15.0)
    assert encoded.frames == len(_frames(encoded.path)) == len(analysis.track) == analysis.track.frames_in_clip // 2
    assert snapshot is not None and snapshot.shape[:2] == (analysis.clip.height, analysis.clip.width)
