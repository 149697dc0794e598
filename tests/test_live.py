"""The live test end to end on real clips played as a camera in real time: transitions, auto-start, auto-stop.

The live result must agree with the offline analysis of the saved clip on stance leg and hold time (0.2 s).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
from pathlib import Path

import cv2
import pytest

from balance.cli.record import add_record_command
from balance.errors import DisplayError
from balance.history.store import Store
from balance.live.machine import Phase
from balance.live.options import asked_legs_noted
from balance.live.session import RecordResult, record
from balance.pipeline import Analysis, analyze
from balance.video.camera import FileAsCamera
from balance.video.reader import probe

from .conftest import SAMPLES, analysed

SWAY = SAMPLES / "synthetic" / "sway_left_clean.mp4"  # 30 s, standing on the left leg from the first frame
AGREE_S = 0.2
FULL_FLOW = [
    Phase.WAITING_FOR_SUBJECT,
    Phase.IN_POSITION,
    Phase.COUNTDOWN,
    Phase.WAITING_FOR_LIFT_OFF,
    Phase.HOLDING,
    Phase.DONE,
    Phase.FINISHED,
]


def _record(
    clip: Path, legs: list[str], duration_s: float, out: Path, realtime: bool = True, **kw: object
) -> RecordResult:
    source = FileAsCamera(clip, realtime=realtime)
    return record(source, legs, duration_s, out, name="test", **kw)  # type: ignore[arg-type]


def _phases(result: RecordResult) -> list[Phase]:
    return [p for _, p in result.live.transitions]


def _entered(result: RecordResult, phase: Phase) -> float:
    return next(t for t, p in result.live.transitions if p is phase)


def _assert_agrees_with_offline(result: RecordResult) -> None:
    assert result.clip is not None
    offline = analyze(result.clip).timeline.trials
    for live in result.live.trials:
        same_leg = [t for t in offline if t.stance_leg == live.stance_leg]
        assert same_leg, f"offline found no {live.stance_leg}-leg trial: {offline}"
        match = min(same_leg, key=lambda t: abs(t.lift_off_s - live.lift_off_s))
        assert live.lift_off_s == pytest.approx(match.lift_off_s, abs=AGREE_S)
        assert live.hold_s == pytest.approx(match.hold_s, abs=AGREE_S)


def _assert_clip_kept(result: RecordResult) -> None:
    assert result.clip is not None and result.clip.is_file()
    assert result.timestamps is not None and result.timestamps.is_file()
    assert not list(result.clip.parent.glob("*.partial.*"))
    with result.timestamps.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == result.live.stats.frames_captured
    times = [float(r["t_s"]) for r in rows]
    assert times == sorted(times)
    assert probe(result.clip).frame_count == pytest.approx(len(rows), abs=2)


@pytest.mark.slow
def test_subject_already_on_one_leg_is_timed_from_the_first_frame_until_time_up(tmp_path: Path) -> None:
    result = _record(SWAY, ["left"], 10.0, tmp_path)
    assert _phases(result) == FULL_FLOW
    (trial,) = result.live.trials
    assert trial.stance_leg == "left" and trial.ended_by == "time_up" and trial.starts_with_recording
    assert trial.hold_s == 10.0
    # The recording stops at time-up, so the saved clip ends with the hold.
    assert _entered(result, Phase.FINISHED) == pytest.approx(10.0, abs=0.2)
    assert not result.live.stopped_early
    assert math.isfinite(trial.sway_rms) and trial.sway_rms < 5.0
    _assert_clip_kept(result)
    _assert_agrees_with_offline(result)
    s = result.live.stats
    print(f"\nsway clip 426x640, lite: {s.processed_fps:.1f} fps, latency {s.latency_ms_median:.0f} ms median")


@pytest.mark.slow
def test_auto_start_at_lift_off_and_end_of_the_hold(tmp_path: Path, shared_media: Path) -> None:
    # Two legs until ~10.5 s, left-leg tree pose until ~42.5 s, then the picture fades to black.
    result = _record(shared_media / "positive" / "sls_studio_woman_tree_front.mp4", ["left"], 40.0, tmp_path)
    assert _phases(result) == FULL_FLOW
    (trial,) = result.live.trials
    assert trial.stance_leg == "left" and not trial.starts_with_recording
    # The countdown ends long before the lift: the timer starts on its own when the foot lifts.
    assert _entered(result, Phase.WAITING_FOR_LIFT_OFF) < 6.0
    assert trial.lift_off_s == pytest.approx(10.5, abs=0.3)
    assert trial.lift_off_s <= _entered(result, Phase.HOLDING) <= trial.lift_off_s + 0.3
    assert trial.ended_by in ("subject_lost", "touch_down")
    assert trial.lift_off_s + trial.hold_s == pytest.approx(42.5, abs=0.5)
    _assert_clip_kept(result)
    _assert_agrees_with_offline(result)


@pytest.mark.slow
def test_auto_stop_at_touch_down(tmp_path: Path, shared_media: Path) -> None:
    # 10 fps GIF conversion: right-leg stance 0.4-6.7 s, the clip ending 0.5 s after touch-down. Played in
    # lockstep, so every frame is judged: on a busy machine real-time playback may drop the few frames that
    # confirm the touch-down before the clip ends (frame dropping has its own tests).
    clip = shared_media / "positive" / "sls_sheknows_woman_tree_front_10fps.mp4"
    result = _record(clip, ["right"], 30.0, tmp_path, realtime=False)
    (trial,) = result.live.trials
    assert trial.stance_leg == "right" and trial.ended_by == "touch_down"
    assert trial.touch_down_s == pytest.approx(6.7, abs=0.2)
    assert _phases(result)[:6] == FULL_FLOW[:6]
    assert _entered(result, Phase.DONE) == pytest.approx(6.9, abs=0.35)  # confirmed 1-2 frames after contact
    _assert_clip_kept(result)
    _assert_agrees_with_offline(result)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["stop", "ctrl_c"])
def test_early_stop_keeps_the_recorded_clip(tmp_path: Path, how: str) -> None:
    def stop_after_2_s() -> bool:
        if stop_after_2_s.calls >= 40:  # type: ignore[attr-defined]
            if how == "ctrl_c":
                raise KeyboardInterrupt
            return True
        stop_after_2_s.calls += 1  # type: ignore[attr-defined]
        return False

    stop_after_2_s.calls = 0  # type: ignore[attr-defined]
    result = _record(SWAY, ["left", "right"], 30.0, tmp_path, should_stop=stop_after_2_s)
    assert result.live.stopped_early
    assert result.live.trials == ()  # stopped during the countdown
    assert _phases(result)[-1] is Phase.FINISHED
    _assert_clip_kept(result)


def test_window_without_display_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(DisplayError) as err:
        _record(SWAY, ["left"], 10.0, tmp_path, window=True)
    assert "\n" not in str(err.value) and "--no-window" in str(err.value)
    assert not any(tmp_path.iterdir())  # refused before anything was captured


@pytest.mark.slow
def test_record_command_plays_a_clip_as_camera(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="balance")
    add_record_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["record", "--leg", "left", "--duration", "5", "--camera", str(SWAY), "--no-window", "--out", str(tmp_path)]
        + ["--name", "Kim", "--db", str(tmp_path / "history.db")]
    )
    assert args.handler(args) == 0
    out, err = capsys.readouterr()
    # The analysis is written beside the clip, keeps the leg the test asked for, and lands in Kim's history.
    (doc,) = tmp_path.glob("record-*/analysis.json")
    notes = json.loads(doc.read_text())["notes"]
    assert any(n == "recorded live: the test asked for the left leg" for n in notes), notes
    assert [t.stance_leg for t in Store(tmp_path / "history.db").trials("Kim")] == ["left"]
    # The clip plays in real time: on a busy machine the first frame or two may be dropped, so lift-off (at the
    # clip's start) is seen within the first 0.2 s and the hold is the 5 s duration to within a frame or two.
    live = re.search(r"Live: left leg held (\d+\.\d) s from (\d+\.\d) s \(time_up\)", out)
    assert live, out
    assert float(live[1]) == pytest.approx(5.0, abs=0.2) and float(live[2]) <= 0.2
    assert "frames/s" in out and "left" in out
    assert "> lift your right foot" in err
    assert len(list(tmp_path.glob("record-*.mp4"))) == 1


def test_a_stance_on_another_leg_than_asked_is_noted() -> None:
    analysis = analysed(SWAY)  # a left-leg hold
    assert isinstance(analysis, Analysis)
    noted = asked_legs_noted(analysis, ("right",))
    assert noted.notes[-1] == (
        "recorded live: the test asked for the right leg, but the clip shows a stance on the left leg: "
        "check which leg stood"
    )
    assert noted.notes[:-1] == analysis.notes


@pytest.mark.slow
def test_live_rate_and_latency_at_640x480(tmp_path: Path) -> None:
    """Print the live loop's speed with the lite model on a 640x480 30 fps picture (the default camera mode)."""
    clip = tmp_path / "vga.mp4"
    src = cv2.VideoCapture(str(SWAY))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 480))
    for _ in range(300):  # 10 s
        ok, image = src.read()
        assert ok
        # The person fills the height, centred, as in front of a laptop camera.
        small = cv2.resize(image, (320, 480))
        canvas = cv2.copyMakeBorder(small, 0, 0, 160, 160, cv2.BORDER_REPLICATE)
        writer.write(canvas)
    writer.release()
    src.release()
    result = _record(clip, ["left"], 30.0, tmp_path / "out")
    s = result.live.stats
    print(
        f"\n640x480 lite on {os.cpu_count()} cores: {s.processed_fps:.1f} processed fps, "
        f"{s.frames_dropped}/{s.frames_captured} dropped, latency median {s.latency_ms_median:.0f} ms, "
        f"p95 {s.latency_ms_p95:.0f} ms"
    )
    # Loose floors: the test machines are shared, so the targets (15 fps, 100 ms) are reported, not enforced.
    assert s.processed_fps > 5
    assert s.latency_ms_median < 500
