"""The catalogue of bad inputs and faults (issue 12): each case is made on the fly from the sample clips with the
ffmpeg inside imageio-ffmpeg and run through the real command line, in a fresh process.

Every case asserts the exit code, exactly one `balance:` line on stderr that says what is wrong, and no
traceback. Cases about writing results live beside the results tests.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import imageio_ffmpeg
import pytest

from balance.live.recording import FRAGMENT_FRAMES
from balance.pose.estimate import resolve_model
from balance.pose.models import DEFAULT_MAX_FPS, analysed_fps, rate_limit
from balance.video.reader import VideoReader

from .conftest import SAMPLES, run_cli

S = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"  # 4 s, 576x576, 30 fps, standing on the left leg
G = SAMPLES / "synthetic" / "sway_left_clean.mp4"  # 30 s, 426x640, 30 fps, standing on the left leg


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True, capture_output=True
    )


def assert_one_line(run: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """The exit code, one `balance:` line on stderr holding every word, no traceback; returns the line."""
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("balance:")]
    assert len(lines) == 1, run.stderr
    assert run.returncode == code, (run.returncode, run.stderr)
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def analyze(clip: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "balance.cli.main", "analyze", str(clip), "--no-video", "--quiet", "--out", str(out)]
    env = {**os.environ, **(env or {})}
    return subprocess.run([*args, *extra], capture_output=True, text=True, timeout=600, env=env)


# ---- options --------------------------------------------------------------------------------------------------


def test_sound_only_mp4_has_no_video_track(tmp_path: Path) -> None:
    clip = tmp_path / "voice-memo.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", clip)
    assert_one_line(analyze(clip, tmp_path / "out"), 3, "has no video track")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["device", "pipe"])
def test_not_a_regular_file_is_named_so(tmp_path: Path, kind: str) -> None:
    path = Path("/dev/zero") if kind == "device" else tmp_path / "pipe.mp4"
    if kind == "pipe":
        os.mkfifo(path)
    assert_one_line(analyze(path, tmp_path / "out"), 3, "is not a regular file")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("rate", ["0.5", "2", "11.9"])
def test_max_fps_below_what_carries_the_low_pass_is_refused_with_the_minimum(tmp_path: Path, rate: str) -> None:
    line = assert_one_line(analyze(S, tmp_path / "out", "--max-fps", rate), 2, "5 Hz", "at least 12", "--max-fps")
    assert f"{float(rate):g}" in line
    assert not (tmp_path / "out").exists()


def test_max_fps_that_thins_this_clip_too_far_names_the_least_that_works(tmp_path: Path) -> None:
    # 14 frames a second of a 30 fps clip keeps one frame in three: 10 per second.
    assert_one_line(analyze(S, tmp_path / "out", "--max-fps", "14"), 2, "one frame in 3", "at least 15")


@pytest.mark.parametrize(
    ("clip_fps", "limit", "analysed"),
    [
        (30.0, 15.0, 15.0),  # one frame in 2
        (23.976, 15.0, 11.988),  # one frame in 2: within 1 % of the minimum
        (60.0, 15.0, 15.0),  # one frame in 4
        (20.0, None, 20.0),  # one frame in 2 would be 10 a second: every frame instead
        (10.0, 15.0, 10.0),  # a slow clip is never thinned
    ],
)
def test_the_default_rate_thins_a_clip_but_never_below_what_carries_the_low_pass(
    clip_fps: float, limit: float | None, analysed: float
) -> None:
    assert rate_limit(DEFAULT_MAX_FPS, clip_fps) == limit
    assert analysed_fps(limit, clip_fps) == pytest.approx(analysed)
    # A limit the user gives is kept as given (and refused by the options when too thin: the tests above).
    assert rate_limit(14.0, clip_fps) == 14.0


@pytest.mark.parametrize("rate", ["-1", "nan"])
def test_max_fps_not_a_rate_is_a_usage_error(tmp_path: Path, rate: str) -> None:
    assert_one_line(analyze(S, tmp_path / "out", "--max-fps", rate), 2, "not a number of frames per second")


@pytest.mark.parametrize("kind", ["text", "truncated", "video", "other zip"])
def test_model_that_is_not_a_pose_bundle_is_exit_6(tmp_path: Path, kind: str) -> None:
    model = tmp_path / "model.task"
    if kind == "text":
        model.write_text("not a model\n")
    elif kind == "truncated":
        model.write_bytes(resolve_model("lite").read_bytes()[:100_000])
    elif kind == "video":
        model.write_bytes(S.read_bytes())
    else:
        with zipfile.ZipFile(model, "w") as z:
            z.writestr("readme.txt", "hello")
    assert_one_line(analyze(S, tmp_path / "out", "--model", str(model), "--no-cache"), 6, str(model), "--model")


@pytest.mark.slow
def test_more_workers_than_cores_run_as_many_as_the_cores_and_say_so(tmp_path: Path) -> None:
    run = analyze(S, tmp_path / "out", "--workers", "100", "--no-cache")
    line = assert_one_line(run, 0, "not 100")
    assert f"running {min(100, os.cpu_count() or 1)} pose processes" in line
    assert (tmp_path / "out" / "analysis.json").is_file()


# ---- clips ----------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("turn", "how"), [("transpose=1,transpose=1", "upside down"), ("transpose=1", "sideways")])
def test_person_upside_down_or_sideways_is_refused_not_scored(tmp_path: Path, turn: str, how: str) -> None:
    clip = tmp_path / "turned.mp4"
    ffmpeg("-i", G, "-t", "5", "-vf", turn, "-c:v", "libx264", "-pix_fmt", "yuv420p", clip)
    assert_one_line(analyze(clip, tmp_path / "out"), 3, how, "rotation")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_one_frame_clip_is_too_short_not_empty(tmp_path: Path) -> None:
    clip = tmp_path / "one.mp4"
    ffmpeg("-i", S, "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", clip)
    assert_one_line(analyze(clip, tmp_path / "out"), 5, "shorter than the 3 s minimum")


# ---- the pose cache -------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_pose_cache_entry_is_a_miss_and_is_replaced(tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    env = {"BALANCE_CACHE_DIR": str(cache)}
    first = analyze(S, tmp_path / "a", env=env)
    assert first.returncode == 0, first.stderr
    (entry,) = cache.glob("*.npz")
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2] if damage == "truncated" else os.urandom(len(good)))
    again = analyze(S, tmp_path / "b", env=env)
    assert again.returncode == 0 and "Traceback" not in again.stderr and "balance:" not in again.stderr, again.stderr
    trials = [json.loads((tmp_path / o / "analysis.json").read_text())["trials"] for o in ("a", "b")]
    assert trials[0] and trials[0] == trials[1]
    assert entry.read_bytes() != b"" and zipfile.is_zipfile(entry)  # replaced by a good entry


@pytest.mark.slow
def test_cache_folder_that_is_a_file_runs_without_the_cache_and_says_so_once(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be\n")
    run = analyze(S, tmp_path / "out", env={"BALANCE_CACHE_DIR": str(not_a_folder)})
    assert_one_line(run, 0, str(not_a_folder), "without the cache")
    assert (tmp_path / "out" / "analysis.json").is_file()
    assert not_a_folder.read_text() == "a file where the cache folder should be\n"


# ---- balance record -------------------------------------------------------------------------------------------


def _record_args(camera: Path, out: Path, duration: str) -> list[str]:
    return ["record", "--camera", str(camera), "--no-window", "--leg", "left", "--duration", duration] + [
        "--out",
        str(out),
    ]


@pytest.mark.slow
def test_record_with_nobody_in_view_exits_like_analyze(tmp_path: Path) -> None:
    empty = tmp_path / "nobody.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=duration=4:size=640x480:rate=30", "-pix_fmt", "yuv420p", empty)
    run = run_cli(*_record_args(empty, tmp_path / "rec", "10"))
    assert_one_line(run, 4, "no person")
    assert len(list((tmp_path / "rec").glob("record-*.mp4"))) == 1  # the recording is kept


@pytest.mark.slow
def test_record_killed_mid_recording_keeps_a_playable_clip_and_its_times(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "balance.cli.main", *_record_args(G, out, "30")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        # Kill once the recording has run about 4 s of capture times.
        while time.monotonic() < deadline:
            rows = list(out.glob("*.timestamps.csv"))
            if rows and len(rows[0].read_text().splitlines()) > 4 * 30:
                break
            assert proc.poll() is None, "record ended before it could be killed"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    time.sleep(1.0)  # the encoder finishes its last fragment once its input closes
    (clip,) = out.glob("record-*.mp4")
    (times,) = out.glob("record-*.timestamps.csv")
    with times.open() as f:
        stamps = list(csv.DictReader(f))
    with VideoReader(clip) as reader:
        frames = sum(1 for _ in reader)
    assert len(stamps) >= 4 * 30
    assert len(stamps) - FRAGMENT_FRAMES <= frames <= len(stamps)
    assert not list(out.glob("*.partial*"))


# ---- balance batch ------------------------------------------------------------------------------------------


def batch(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_cli("batch", *args, "--quiet")


def test_batch_manifest_with_a_bad_week_stops_before_anything_runs(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"clip,name,week\n{S},Sam,0\n")
    assert_one_line(batch(manifest, "--out", tmp_path / "out"), 2, "line 2", "week 0 is outside 1-52")
    assert not (tmp_path / "out").exists()


def test_batch_with_a_history_that_is_not_a_database_stops_before_anything_runs(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 100)
    before = junk.read_bytes()
    run = batch(S, "--out", tmp_path / "out", "--name", "Sam", "--db", junk, "--workers", "1")
    assert_one_line(run, 7, "not a balance history database", "left untouched")
    assert junk.read_bytes() == before
    assert not [p for p in (tmp_path / "out").iterdir() if p.is_dir()]


@pytest.mark.slow  # starts a local Dask cluster
def test_batch_folder_with_a_damaged_clip_names_it_and_exits_9(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "damaged.mp4").write_bytes(S.read_bytes()[:3000])
    (folder / "notes.txt").write_text("x")
    out = tmp_path / "out"
    run = batch(folder, "--out", out, "--workers", "1")
    assert_one_line(run, 9, "1 of 2 inputs failed")
    assert "damaged.mp4" in run.stderr
    with (out / "batch-summary.csv").open() as fh:
        rows = {Path(r["clip"]).name: r for r in csv.DictReader(fh)}
    assert (rows["damaged.mp4"]["status"], rows["damaged.mp4"]["error"]) == ("failed", "VideoError")
    assert rows["notes.txt"]["status"] == "skipped"
    assert sorted(p.name for p in out.iterdir()) == ["batch-summary.csv", "batch-summary.json"]  # no partials
