"""The command line as a user meets it: one readable line and a non-zero exit for every bad input,
nothing written on failure (nor when interrupted or killed), and a summary plus JSON and CSV files on success.

Commands run in process through `balance.cli.main.main(argv)` (fast: no interpreter start, the pose model
loaded once); a few run as a real process, for what only a process shows: the exit status the shell sees,
no traceback on stderr, and signals.
"""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from balance.cli.main import main
from balance.files import is_partial
from balance.pose import skeleton

from .conftest import SAMPLES, analysed, run_cli, sigint_as_at_a_terminal

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
SQUATS = SAMPLES / "neg_tfjs_woman_band_squats.mp4"
POSE2SIM = SAMPLES / "sls_pose2sim_balancing_cam01.mp4"
STILL = SAMPLES / "pos_tfexamples_image3_tree_pose_pixabay.jpeg"
PHONE = Path(__file__).parent / "data" / "phone_portrait_pose_1.mp4"


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """`balance ARGS...` in this process: its exit code and what it printed."""

    def run(*args: str | Path) -> Run:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own errors
            code = exc.code if isinstance(exc.code, int) else 2
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def assert_one_line_error(proc: Run | subprocess.CompletedProcess[str], exit_code: int, *phrases: str) -> None:
    assert proc.returncode == exit_code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("balance: ")
    assert "Traceback" not in proc.stderr
    for phrase in phrases:
        assert phrase in lines[0]
    assert proc.stdout == ""


def rewrite(src: Path, dst: Path, transform) -> Path:
    """Re-encode src frame by frame through transform(image) -> image (mp4v), same rate."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    writer = None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out = transform(frame)
        if writer is None:
            h, w = out.shape[:2]
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        writer.write(out)
    cap.release()
    assert writer is not None
    writer.release()
    return dst


def test_missing_file(tmp_path: Path) -> None:
    # As a real process: the exit status the shell sees, and no traceback from any layer.
    proc = run_cli("analyze", tmp_path / "nope.mp4", "--out", tmp_path / "out")
    assert_one_line_error(proc, 3, "not found", "Check the path")
    assert not (tmp_path / "out").exists()


def test_empty_file(tmp_path: Path, cli: Cli) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    proc = cli("analyze", empty, "--out", tmp_path / "out")
    assert_one_line_error(proc, 3, "empty")
    assert not (tmp_path / "out").exists()


def test_not_a_video(tmp_path: Path, cli: Cli) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("these are my notes, not a video\n" * 20)
    proc = cli("analyze", text, "--out", tmp_path / "out")
    assert_one_line_error(proc, 3, "not a video")


def test_still_image(tmp_path: Path, cli: Cli) -> None:
    proc = cli("analyze", STILL, "--out", tmp_path / "out")
    assert_one_line_error(proc, 3, "still image", "Record a video")
    assert not (tmp_path / "out").exists()


def test_truncated_clip_is_refused_when_its_index_is_lost(tmp_path: Path, cli: Cli) -> None:
    cut = tmp_path / "cut.mp4"
    data = POSE_1.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.4)])
    proc = cli("analyze", cut, "--out", tmp_path / "out")
    assert_one_line_error(proc, 3, "damaged or incomplete")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_truncated_clip_that_still_decodes_is_analysed_as_far_as_it_goes(tmp_path: Path, cli: Cli) -> None:
    """A clip whose index comes first decodes up to the cut: the part that decodes is analysed and
    the report says the clip was damaged and how much of it was used."""
    data = PHONE.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat"), "fixture should be written with +faststart"
    cut = tmp_path / "cut.mp4"
    # 96 % of the bytes decode to about 3.5 s of the 4 s: enough for a trial.
    cut.write_bytes(data[: int(len(data) * 0.96)])
    proc = cli("analyze", cut, "--out", tmp_path / "out", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["clip"]["truncated"] is True
    assert any("damaged" in n for n in doc["notes"])


@pytest.mark.slow
def test_no_person_in_view(tmp_path: Path, cli: Cli) -> None:
    """An empty room: the sample clip with the person painted out by a flat background colour."""
    rng = np.random.default_rng(0)

    def empty_room(frame: np.ndarray) -> np.ndarray:
        room = np.full_like(frame, (180, 175, 170))
        return np.clip(room + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)

    clip = rewrite(POSE_1, tmp_path / "empty_room.mp4", empty_room)
    proc = cli("analyze", clip, "--out", tmp_path / "out")
    assert_one_line_error(proc, 4, "no person", "whole body")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_feet_out_of_frame(tmp_path: Path, cli: Cli) -> None:
    """The same one-leg clip cropped above the knees: the body is there, the feet are not."""
    clip = rewrite(POSE_1, tmp_path / "no_feet.mp4", lambda f: np.ascontiguousarray(f[: int(f.shape[0] * 0.62)]))
    proc = cli("analyze", clip, "--out", tmp_path / "out")
    assert_one_line_error(proc, 4, "feet", "out of frame")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_both_feet_down_the_whole_clip(tmp_path: Path, cli: Cli) -> None:
    proc = cli("analyze", SQUATS, "--out", tmp_path / "out")
    assert_one_line_error(proc, 5, "no single-leg stance found", "both feet stay on the floor")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_clip_shorter_than_the_minimum_trial_names_the_phase(tmp_path: Path, cli: Cli) -> None:
    proc = cli("analyze", POSE2SIM, "--out", tmp_path / "out")
    assert_one_line_error(proc, 5, "shorter than the 3 s minimum", "standing on the left leg")
    assert not (tmp_path / "out").exists()


def test_unknown_model(tmp_path: Path, cli: Cli) -> None:
    proc = cli("analyze", POSE_1, "--model", tmp_path / "missing.task", "--out", tmp_path / "out")
    assert_one_line_error(proc, 6, "no pose model")


def test_implausible_height_is_refused_by_the_parser(tmp_path: Path, cli: Cli) -> None:
    proc = cli("analyze", POSE_1, "--height-cm", "17", "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert "plausible standing height" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_rotated_phone_clip_is_analysed_upright(tmp_path: Path, cli: Cli) -> None:
    proc = cli("analyze", PHONE, "--out", tmp_path / "out", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["clip"]["rotation_deg"] == 90
    assert (doc["clip"]["width"], doc["clip"]["height"]) == (384, 576)
    assert [t["stance_leg"] for t in doc["trials"]] == ["left"]


@pytest.mark.slow
def test_success_prints_summary_and_writes_json_and_csv(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "out"
    proc = cli("analyze", POSE_1, "--out", out, "--height-cm", "165")
    assert proc.returncode == 0, proc.stderr
    assert "standing on the left leg" in proc.stdout
    assert "cm/s" in proc.stdout and "deg" in proc.stdout
    assert {p.name for p in out.iterdir()} == {
        "analysis.json",
        "frames.csv",
        "report.html",
        "annotated.mp4",
        "snapshot.jpg",
        "series.npz",
        "sway_trial1.png",
        "stabilogram_trial1.png",
        "tripod_trial1.png",
        "segment_shares.png",
    }
    doc = json.loads((out / "analysis.json").read_text())
    assert doc["schema_version"] == "1.0"
    assert len(doc["clip"]["sha256"]) == 64
    (trial,) = doc["trials"]
    assert trial["stance_leg"] == "left"
    assert trial["touch_down_s"] is None and trial["ended_by"] == "clip_end"
    assert trial["hold_s"] == pytest.approx(4.0, abs=0.1)
    com = trial["metrics"]["observed"]["centre_of_mass"]
    assert com["units"]["mean_velocity"] == "cm/s"
    assert com["mean_velocity"] > 0
    with open(out / "frames.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == doc["clip"]["frames_analysed"] == 60  # the 30 fps clip analysed at 15 frames a second
    assert {r["stance_state"] for r in rows} == {"left"}
    assert float(rows[0]["left_ankle_y_px"]) > float(rows[0]["right_ankle_y_px"])


@pytest.mark.slow
def test_failed_run_leaves_previous_results_untouched(tmp_path: Path, cli: Cli) -> None:
    """Re-running into a results folder with a bad clip must not clobber or half-write it."""
    out = tmp_path / "out"
    assert cli("analyze", POSE_1, "--out", out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.mp4"
    shutil.copy(STILL, bad)
    proc = cli("analyze", bad, "--out", out)
    assert proc.returncode == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.slow
@pytest.mark.parametrize("one_leg_side", ["left", "right"])
def test_two_people_the_one_on_one_leg_is_followed(tmp_path: Path, one_leg_side: str, cli: Cli) -> None:
    """The tree-pose hold beside a man standing on two feet: whichever the tracker locks onto first, the
    analysis follows the person on one leg and says that two people were in view."""
    hold = cv2.VideoCapture(str(SAMPLES / "synthetic" / "sway_left_clean.mp4"))
    man = cv2.resize(cv2.imread(str(SAMPLES / "neg_tfexamples_image2_standing_man_pixabay.jpeg")), (426, 640))
    clip = tmp_path / "two_people.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 30, (852, 640))
    for _ in range(150):
        ok, frame = hold.read()
        assert ok
        writer.write(cv2.hconcat([frame, man] if one_leg_side == "left" else [man, frame]))
    writer.release()
    hold.release()
    proc = cli("analyze", clip, "--out", tmp_path / "out", "--json", "--no-video")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [t["stance_leg"] for t in doc["trials"]] == ["left"]
    assert doc["trials"][0]["hold_s"] == pytest.approx(5.0, abs=0.2)
    assert any("2 people were in view" in n for n in doc["notes"])


@pytest.mark.slow
def test_report_redraws_from_the_saved_results(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "out"
    assert cli("analyze", POSE_1, "--out", out, "--no-video", "--quiet").returncode == 0
    (out / "report.html").unlink()
    proc = cli("report", out / "analysis.json", "--name", "Sam")
    assert proc.returncode == 0 and proc.stdout.strip() == f"Report: {out / 'report.html'}"
    page = (out / "report.html").read_text()
    assert "Sam" in page and page.count("<img") == 4
    # A damaged traces file is refused like a damaged analysis.json, and the report is left as it was.
    (out / "series.npz").write_bytes(b"PK\x03\x04 not a zip")
    proc = cli("report", out / "analysis.json")
    assert_one_line_error(proc, 7, "series.npz is damaged", "Analyse the clip again")
    assert (out / "report.html").read_text() == page


EARLIER = {"analysis.json": "earlier analysis", "report.html": "earlier report"}


def _interrupt_while_writing(out: Path, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    """`balance analyze` as a process, sent `sig` while it writes the annotated video (its temporary file is
    in the results folder): the slowest part of writing results."""
    out.mkdir()
    for name, text in EARLIER.items():
        (out / name).write_text(text)
    args = [sys.executable, "-m", "balance.cli.main", "analyze", str(POSE_1), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_at_a_terminal
    )
    deadline = time.monotonic() + 300
    while not any(is_partial(p) for p in out.iterdir()):
        assert proc.poll() is None, f"finished before it was interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


@pytest.mark.slow
def test_ctrl_c_while_writing_keeps_the_earlier_result_and_leaves_no_partial(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _interrupt_while_writing(out, signal.SIGINT)
    assert proc.returncode == 130
    assert proc.stderr.strip() == "balance: interrupted; nothing was written" and proc.stdout == ""
    assert {p.name: p.read_text() for p in out.iterdir()} == EARLIER


@pytest.mark.slow
def test_a_killed_run_leaves_partials_that_the_next_run_sweeps(tmp_path: Path, cli: Cli) -> None:
    out = tmp_path / "out"
    proc = _interrupt_while_writing(out, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert {p.name: p.read_text() for p in out.iterdir() if not is_partial(p)} == EARLIER
    assert [p for p in out.iterdir() if is_partial(p)]  # what SIGKILL leaves behind
    assert cli("analyze", POSE_1, "--out", out, "--no-video", "--quiet").returncode == 0
    assert not [p for p in out.iterdir() if is_partial(p)]
    assert (out / "analysis.json").read_text().startswith("{")


def _video_frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while (got := cap.read())[0]:
        frames.append(got[1])
    cap.release()
    return frames


@pytest.mark.slow
def test_video_size_scales_the_annotated_video_and_its_drawing(tmp_path: Path, cli: Cli) -> None:
    """--video-size 288 halves the 576-pixel clip: every frame, with the skeleton drawn on the halved landmarks
    and nothing far from the body; `full` keeps the clip's size (as does the default, 720, for this clip)."""
    small, full = tmp_path / "small", tmp_path / "full"
    assert cli("analyze", POSE_1, "--out", small, "--video-size", "288", "--quiet").returncode == 0
    assert cli("analyze", POSE_1, "--out", full, "--video-size", "full", "--quiet").returncode == 0
    halved, whole = _video_frames(small / "annotated.mp4"), _video_frames(full / "annotated.mp4")
    assert len(halved) == len(whole) == 60  # the measured frames: the 30 fps clip analysed at 15
    assert halved[0].shape[:2] == (288, 288) and whole[0].shape[:2] == (576, 576)
    # The video's size changes no result.
    assert json.loads((small / "analysis.json").read_text()) == json.loads((full / "analysis.json").read_text())
    track = analysed(POSE_1).track  # type: ignore[union-attr]
    source = _video_frames(POSE_1)
    yy, xx = np.mgrid[0:288, 0:288]
    for k in (15, 45):  # the video's k-th frame is the k-th measured one
        i, xy = int(track.frame_index[k]), track.image_xy[k] / 2
        drawn = np.abs(halved[k].astype(np.int16) - cv2.resize(source[i], (288, 288)).astype(np.int16)).max(axis=2)
        on = np.zeros((288, 288), np.uint8)
        for a, b in skeleton.BODY_BONES:
            if np.all(np.isfinite(xy[[a, b]])):
                cv2.line(on, tuple(int(round(v)) for v in xy[a]), tuple(int(round(v)) for v in xy[b]), 1, 1)
        pts = xy[np.all(np.isfinite(xy), axis=1)]
        dist = np.min(np.hypot(xx[..., None] - pts[:, 0], yy[..., None] - pts[:, 1]), axis=2)
        far = (dist > 0.2 * 288) & (yy > 0.4 * 288) & (yy < 0.85 * 288)
        assert on.sum() > 100 and far.sum() > 2000
        assert drawn[on.astype(bool)].mean() > 40, f"frame {i}: no skeleton on the halved landmarks"
        # Re-encoding a picture this small moves its pixels by 7-13 levels (measured); drawing moves them by 100+.
        assert drawn[far].mean() < 20, f"frame {i}: something drawn far from the body"


def test_video_size_below_the_smallest_is_refused(tmp_path: Path, cli: Cli) -> None:
    proc = cli("analyze", POSE_1, "--out", tmp_path / "out", "--video-size", "100")
    assert proc.returncode == 2 and "--video-size" in proc.stderr and "from 240" in proc.stderr
    assert not (tmp_path / "out").exists()


# ---- pose processes started before the analysis is imported (issue 20) ------------------------------------------


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every set of pose processes the run starts (balance.pose.estimate._start_workers), kept for a look after."""
    from balance.pose import estimate

    runs: list[Any] = []
    real = estimate._start_workers

    def record(chunks: Any) -> Any:
        runs.append(real(chunks))
        return runs[-1]

    monkeypatch.setattr(estimate, "_start_workers", record)
    return runs


@pytest.mark.slow
def test_pose_processes_started_early_are_the_ones_the_analysis_uses(
    cli: Cli, tmp_path: Path, started: list[Any]
) -> None:
    from balance.pose import estimate

    run = cli("analyze", SQUATS, "--out", tmp_path / "out", "--no-cache", "--no-video", "--quiet", "--json")
    # The squats are refused (no one-leg stance), after the pose stage: what matters is who ran it.
    assert run.returncode == 5, run.stderr
    assert len(started) == 1 and not estimate._STARTED
    assert all(p.returncode == 0 for p in started[0]._procs)  # finished their chunks, were not killed


@pytest.mark.slow
def test_pose_processes_started_early_stop_when_an_option_is_refused(
    cli: Cli, tmp_path: Path, started: list[Any]
) -> None:
    from balance.pose import estimate

    run = cli("analyze", SQUATS, "--out", tmp_path / "out", "--no-cache", "--max-fps", "5")
    assert_one_line_error(run, 2, "too low", "--max-fps")
    assert len(started) == 1 and not estimate._STARTED
    assert all(p.returncode is not None for p in started[0]._procs)  # stopped, not left running
    assert not Path(started[0]._tmp.name).exists()  # nor their temporary folder
    assert not (tmp_path / "out").exists()
