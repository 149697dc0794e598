"""Two cameras (balance.twoview): the Pose2Sim balancing trial's rear views cam03 and cam04 fused into a 2-D
stabilogram from the command line and in a batch manifest, checked against Pose2Sim's 3-D reconstruction; the
offset recovered on a trimmed copy; and the pairs that are not pairs, each refused in one line with nothing
written. The poses of the licensed clips are recorded (tests/data/poses), so only the trimmed and cut copies run
the pose model.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from balance.errors import PairError
from balance.history.store import Store
from balance.pipeline import analyze_pair
from balance.results.document import to_json
from balance.twoview.fuse import compare_events
from balance.twoview.pairing import separation
from balance.twoview.sync import synchronise
from benchmarks.two_view import CALIB, TRC, camera_axes, read_trc, reference

from .conftest import SAMPLES
from .test_batch import cli as batch_cli
from .test_cli import Cli, assert_one_line_error, cli  # noqa: F401  (cli is a fixture)
from .test_store import database, postgres  # noqa: F401  (the history's two backends)

CAM03 = SAMPLES / "sls_pose2sim_balancing_cam03.mp4"
CAM04 = SAMPLES / "sls_pose2sim_balancing_cam04.mp4"
POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"  # another person (a synthetic woman), also on the left leg
SQUATS = SAMPLES / "neg_tfjs_woman_band_squats.mp4"  # both feet down throughout
FRAME_S = 1 / 60  # the Pose2Sim clips' frame


def cut(src: Path, dst: Path, first: int, last: int | None = None) -> Path:
    """Frames [first, last) of src re-encoded (mp4v) at its rate: the copy starts `first` frames later."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    writer, i = None, 0
    while True:
        ok, frame = cap.read()
        if not ok or (last is not None and i >= last):
            break
        if i >= first:
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            writer.write(frame)
        i += 1
    cap.release()
    assert writer is not None
    writer.release()
    return dst


def test_two_cameras_from_the_command_line_against_the_3d_reconstruction(tmp_path: Path, cli: Cli) -> None:  # noqa: F811
    out = tmp_path / "out"
    run = cli("analyze", CAM04, "--side", CAM03, "--min-trial-s", "1", "--out", out, "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    tv = doc["two_view"]
    assert Path(tv["side_clip"]["path"]).name == CAM03.name
    # The views are synchronised by construction: the offset is 0 within a frame, and its SD says so.
    assert abs(tv["sync"]["offset_s"]) < FRAME_S
    assert tv["sync"]["offset_sd_s"] < 3 * FRAME_S
    # The cameras are 64 degrees apart by the calibration; the body's turn in the two views says 81 +- 7.
    assert 45 <= tv["pairing"]["separation_deg"] <= 90
    [trial] = tv["trials"]
    com = trial["traces"]["centre_of_mass"]
    assert com["axes"] == ["ml", "ap"] and com["unit"] == "%leg"
    assert com["ellipse_area_95"] > 0 and len(com["rms"]) == 2
    assert trial["stance_leg"] == "left"  # stance L (MANIFEST)
    # A single-view document keeps its layout; the two-view part is beside it.
    assert doc["trials"][0]["metrics"]["horizontal_axis"] in ("ml", "mixed")
    assert {"stabilogram2d_trial1.png", "report.html", "annotated.mp4"} <= {p.name for p in out.iterdir()}
    assert "Two cameras" in (out / "report.html").read_text()
    assert (
        "2-D stabilogram of the centre of mass"
        in cli(
            "analyze", CAM04, "--side", CAM03, "--min-trial-s", "1", "--out", tmp_path / "again", "--no-video"
        ).stdout
    )
    # The annotated video puts the side view beside the front one.
    front = cv2.VideoCapture(str(CAM04))
    video = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert video.get(cv2.CAP_PROP_FRAME_WIDTH) > 1.5 * video.get(cv2.CAP_PROP_FRAME_HEIGHT) * (
        front.get(cv2.CAP_PROP_FRAME_WIDTH) / front.get(cv2.CAP_PROP_FRAME_HEIGHT)
    )
    # Both axes against Pose2Sim's 3-D centre of mass, projected on each camera's picture axis.
    if not TRC.is_file():
        pytest.skip(f"the 3-D reference is not at {TRC}")
    series = np.load(out / "series.npz")
    grid, xy = series["trial0__two_view_grid"], series["trial0__two_view_centre_of_mass"]
    t_ref, kp = read_trc(TRC)
    com3d, left, forward = reference(t_ref, kp)
    axes = camera_axes(CALIB)
    for k, (cam, towards) in enumerate((("cam04", left), ("cam03", forward))):
        axis = axes[cam] * np.sign(np.dot(axes[cam], towards))
        ref = np.interp(grid, t_ref, com3d @ axis)
        assert np.corrcoef(xy[:, k], ref)[0, 1] >= 0.9, cam


@pytest.mark.parametrize(
    ("side", "code", "words"),
    [
        (CAM04, 10, "along nearly the same line"),  # the same view twice: one axis seen twice
        (POSE_1, 10, "do not show the same movement at the same time"),  # another person
        (SQUATS, 5, f"the side clip {SQUATS.name}: no single-leg stance found"),
    ],
    ids=["same-axis-twice", "other-person", "side-clip-without-a-stance"],
)
def test_clips_that_are_not_a_pair_are_refused_in_one_line(
    tmp_path: Path,
    cli: Cli,  # noqa: F811
    side: Path,
    code: int,
    words: str,
) -> None:
    out = tmp_path / "out"
    run = cli("analyze", CAM04, "--side", side, "--min-trial-s", "1", "--out", out)
    assert_one_line_error(run, code, words)
    assert not out.exists()


@pytest.mark.slow
def test_the_offset_of_a_trimmed_copy_within_a_frame(tmp_path: Path) -> None:
    for k in (4, 11):
        trimmed = cut(CAM03, tmp_path / f"cam03_minus{k}.mp4", k)
        tv = analyze_pair(CAM04, trimmed, min_trial_s=1.0).two_view
        assert tv is not None
        # An event at front time T is at T - k frames in the trimmed copy: t_front = t_side + k frames.
        assert abs(tv.sync.offset_s - k * FRAME_S) < FRAME_S, k
        assert abs(tv.sync.offset_s - k * FRAME_S) < 3 * tv.sync.offset_sd_s


@pytest.mark.slow
def test_clips_that_do_not_overlap_in_time_are_refused(tmp_path: Path, cli: Cli) -> None:  # noqa: F811
    clip = SAMPLES / "synthetic" / "sway_left_clean.mp4"
    early = cut(clip, tmp_path / "early.mp4", 0, 240)  # 0-8 s
    late = cut(clip, tmp_path / "late.mp4", 540, 780)  # 18-26 s
    out = tmp_path / "out"
    run = cli("analyze", early, "--side", late, "--out", out)
    assert_one_line_error(run, 10, "do not show the same movement at the same time")
    assert not out.exists()


def test_separation_is_axial_and_folded() -> None:
    turns = np.full(50, 10.0)
    assert separation(turns + 80, turns) == pytest.approx((80.0, 0.0), abs=1e-6)
    # Front and back, and left and right labels swapped, are the same line: 180 and 100 degrees fold to 0 and 80.
    assert separation(turns + 180, turns)[0] == pytest.approx(0.0, abs=1e-6)
    assert separation(turns + 100, turns)[0] == pytest.approx(80.0, abs=1e-6)


def test_sync_of_a_clip_with_itself_is_zero() -> None:
    a = analyze_pair(CAM04, CAM03, min_trial_s=1.0)
    sync = synchronise(a.track, a.track)
    assert sync.offset_s == pytest.approx(0.0, abs=1e-9) and sync.peak_r == pytest.approx(1.0)
    with pytest.raises(PairError, match="nearly the same line"):
        analyze_pair(CAM03, CAM03, min_trial_s=1.0)


@pytest.mark.slow
def test_a_manifest_side_clip_column_runs_the_two_view_analysis(tmp_path: Path) -> None:
    manifest = tmp_path / "in" / "manifest.csv"
    manifest.parent.mkdir()
    manifest.write_text(f"clip,side_clip\n{CAM04},{CAM03}\n")
    out = tmp_path / "out"
    assert batch_cli("batch", manifest, "--out", out, "--workers", "1", "--min-trial-s", "1", "--quiet") == 0
    with (out / "batch-summary.csv").open() as fh:
        [row] = list(csv.DictReader(fh))
    assert row["status"] == "ok"
    doc = json.loads((out / row["out"] / "analysis.json").read_text())
    assert Path(doc["two_view"]["side_clip"]["path"]).name == CAM03.name
    assert doc["two_view"]["trials"][0]["traces"]["centre_of_mass"]["axes"] == ["ml", "ap"]


def test_the_history_marks_a_two_camera_session(database: str) -> None:  # noqa: F811
    db = database
    two = to_json(analyze_pair(CAM04, CAM03, min_trial_s=1.0))
    with Store(db) as store:
        assert store.add_analysis(two, name="Sam", recorded_on=date(2024, 3, 4), week=1).stored
        [trial] = store.trials("Sam")
    assert trial.side_clip_sha256 == two["two_view"]["side_clip"]["sha256"]
    # The stored trial is the front view's, measured as a single camera measures it: like with like.
    assert (trial.view, trial.hold_s) == (two["trials"][0]["metrics"]["view"], two["trials"][0]["hold_s"])


def test_views_that_disagree_on_lift_off_or_touch_down_say_so() -> None:
    an = analyze_pair(CAM04, CAM03, min_trial_s=1.0)
    assert an.two_view is not None
    front, side = an.trials[0], an.two_view.side.trials[0]
    offset = an.two_view.sync.offset_s
    events, notes = compare_events(front, side, offset)
    assert events["lift_off_s"]["front"] == pytest.approx(front.trial.lift_off_s, abs=1e-3)
    late = replace(side, trial=replace(side.trial, lift_off_s=front.trial.lift_off_s - offset + 0.5))
    events, notes = compare_events(front, late, offset)
    assert events["disagree"] and any("disagree on lift-off" in n for n in notes)
    landed = replace(side, trial=replace(side.trial, touch_down_s=front.trial.end_s - offset - 0.4))
    events, notes = compare_events(front, landed, offset)
    assert any("disagree on touch-down" in n for n in notes)
