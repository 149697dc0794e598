"""Tests for balance.video.reader: bad inputs, rotation, container timestamps, decimation, truncation, streaming.

Clips in tests/data/ come from scripts/make_test_clips.py; ../shared/media clips are only read in place.
"""

from __future__ import annotations

import inspect
import shutil
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from balance.errors import VideoError
from balance.video.reader import VideoReader, probe

DATA = Path(__file__).resolve().parent / "data"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_videos"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "media"

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"  # 120 frames, 576x576, 30 fps, H.264, index at the end
CAM02 = SAMPLES / "sls_pose2sim_balancing_cam02.mp4"  # 100 frames, 1080x1920, 60 fps, VP9, index first
CAM01 = SAMPLES / "sls_pose2sim_balancing_cam01.mp4"  # 100 frames, 1080x1920, 60 fps, H.264
JPEG = SAMPLES / "neg_tfexamples_image2_standing_man_pixabay.jpeg"

# Restated from scripts/make_test_clips.py: the VFR clips keep source frames 0-19 and 35-59 at n/30 s.
VFR_SOURCE_FRAMES = [n for n in range(60) if not 20 <= n <= 34]
ROTATED_CROP_X = (576 - 384) // 2


def shared_clip(relative: str) -> Path:
    path = SHARED / relative
    if not path.is_file():
        pytest.skip(f"needs {relative} from the shared media folder {SHARED}, which is not here")
    return path


def times(path: Path, max_fps: float | None = None) -> dict[int, float]:
    with VideoReader(path, max_fps=max_fps) as reader:
        return {frame.index: frame.t_s for frame in reader}


def cut_bytes(src: Path, dst: Path, keep: float | int) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    return dst


# --- bad input: one line saying what is wrong and what to do ---------------------------------------------


def _png_named_mp4(tmp: Path) -> Path:
    photo = cv2.imread(str(JPEG))
    assert photo is not None
    ok, png = cv2.imencode(".png", photo)
    assert ok
    path = tmp / "photo.mp4"
    path.write_bytes(png.tobytes())
    return path


def _text_named_mp4(tmp: Path) -> Path:
    path = tmp / "notes.mp4"
    path.write_text("left leg 32 s, right leg 18 s\n" * 20)
    return path


def _empty(tmp: Path) -> Path:
    path = tmp / "empty.mp4"
    path.touch()
    return path


BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "missing": (lambda tmp: tmp / "no_such_clip.mp4", ("not found", "Check the path")),
    "folder": (lambda tmp: tmp, ("is a folder, not a video file", "Give the path of one clip")),
    "empty": (_empty, ("is empty (0 bytes)", "copy the clip again")),
    "text renamed .mp4": (_text_named_mp4, ("is not a video file", "Give a video clip: MP4")),
    "jpeg": (
        lambda tmp: Path(shutil.copy(JPEG, tmp / "photo.jpeg")),
        ("is a still image, not a video", "Record a video clip of the person standing on one leg"),
    ),
    "png renamed .mp4": (_png_named_mp4, ("is a still image, not a video", "Record a video clip")),
    # The 1904-byte header of this clip comes first; 3000 bytes keep it and lose every frame.
    "header only": (
        lambda tmp: cut_bytes(CAM02, tmp / "header_only.mp4", 3000),
        ("opens as a video but not a single frame of it decodes", "copy the clip again"),
    ),
    # This clip's index is at the end, so a cut-off copy cannot even be opened.
    "cut off, no index": (
        lambda tmp: cut_bytes(POSE_1, tmp / "cut.mp4", 0.4),
        ("looks like an MP4/MOV file", "damaged or incomplete", "Copy the clip again"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
@pytest.mark.parametrize("opener", [probe, VideoReader], ids=["probe", "VideoReader"])
def test_bad_input_raises_one_line_video_error(tmp_path: Path, case: str, opener: Callable[[Path], object]) -> None:
    make, expected = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(VideoError) as caught:
        opener(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message == f"{caught.value.what}. {caught.value.todo}"
    assert str(path) in message
    for text in expected:
        assert text in message


def test_max_fps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_fps"):
        VideoReader(POSE_1, max_fps=0)


# --- probe -------------------------------------------------------------------------------------------------


def test_probe_reports_the_container_header() -> None:
    info = probe(POSE_1)
    assert info.path == POSE_1
    # SHA-256 as listed in ../shared/media/MANIFEST.md for P5.
    assert info.sha256 == "a581dd3c6495c4257a8f7756c6c59b445e8949eec0bc2637ba5283bfa7d71930"
    assert (info.width, info.height, info.rotation_deg) == (576, 576, 0)
    assert info.fps_nominal == pytest.approx(30.0)
    assert info.frame_count == 120
    assert info.duration_s == pytest.approx(4.0)
    assert info.codec == "h264"
    assert probe(CAM02).codec == "VP90"


# --- rotation ----------------------------------------------------------------------------------------------


def test_rotated_phone_clip_comes_out_upright() -> None:
    path = DATA / "rotated_90_pose_1.mp4"
    raw = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    raw.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    ok, stored = raw.read()
    raw.release()
    assert ok
    assert stored.shape == (384, 576, 3)  # landscape pixels, person lying on her side

    with VideoReader(path) as reader:
        info = reader.info
        frame = next(iter(reader))
    assert info.rotation_deg == 90
    assert (info.width, info.height) == (384, 576)
    assert frame.image.shape == (576, 384, 3)

    source = cv2.VideoCapture(str(POSE_1))
    ok, upright = source.read()
    source.release()
    assert ok
    upright = upright[:, ROTATED_CROP_X : ROTATED_CROP_X + 384]

    def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())

    # Same picture as the upright source up to compression noise; upside down would differ by ~40 levels.
    assert mean_abs_diff(frame.image, upright) < 5
    assert mean_abs_diff(frame.image, cv2.rotate(upright, cv2.ROTATE_180)) > 20


# --- timestamps --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm"])
def test_timestamps_come_from_the_container(suffix: str) -> None:
    with VideoReader((DATA / "vfr_gap_pose_1").with_suffix(suffix)) as reader:
        frames = [(frame.index, frame.t_s) for frame in reader]
        assert reader.timestamps_from_container
        assert reader.frames_decoded == 45
        # WebM has no frame count: OpenCV's estimate of 60 must not make a complete file look cut off.
        assert not reader.truncated
    assert [index for index, _ in frames] == list(range(45))
    t = np.array([t for _, t in frames])
    assert t[0] == 0.0  # the .mp4's first frame is stamped 1.5 s
    assert np.all(np.diff(t) > 0)
    # index / fps would put frame 20 at 0.67 s; the container says 1.17 s, after the 0.5 s hole.
    np.testing.assert_allclose(t, np.array(VFR_SOURCE_FRAMES) / 30.0, atol=1e-3)


def test_ntsc_rate_steps_by_1001_over_30000() -> None:
    path = shared_clip("positive/sls_studio_woman_lateral_leg_swing_front.mp4")
    with VideoReader(path) as reader:
        assert reader.info.fps_nominal == pytest.approx(30000 / 1001)
        t = np.array([frame.t_s for _, frame in zip(range(60), reader, strict=False)])
    np.testing.assert_allclose(np.diff(t), 1.001 / 30, atol=1e-5)
    assert t[59] == pytest.approx(59 * 1.001 / 30, abs=1e-4)
    assert abs(t[59] - 59 / 30) > 1e-3  # an assumed 30 fps would drift by 2 ms after 2 s


def test_missing_container_times_fall_back_to_index_over_fps() -> None:
    # AVI carries no presentation times: OpenCV starts at 66.7 ms and reads 0 for the last two frames.
    with VideoReader(DATA / "bframes_pose_1.avi") as reader:
        t = np.array([frame.t_s for frame in reader])
        assert not reader.timestamps_from_container
        assert not reader.truncated
    assert len(t) == 60
    assert np.all(np.diff(t) > 0)
    np.testing.assert_allclose(t, np.arange(60) / 30.0, atol=1e-6)


# --- decimation --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("max_fps", "step"), [(10.0, 3), (15.0, 2), (60.0, 1)])
def test_max_fps_keeps_real_times_and_never_exceeds_the_rate(max_fps: float, step: int) -> None:
    every = times(POSE_1)
    with VideoReader(POSE_1, max_fps=max_fps) as reader:
        kept = {frame.index: frame.t_s for frame in reader}
        assert reader.frames_decoded == 120  # skipped frames are decoded (grabbed) too, and counted
    # 15 fps from 30 fps is the exact edge: every second frame, 66.67 ms apart, must not be dropped.
    assert list(kept) == list(range(0, 120, step))
    assert all(kept[i] == every[i] for i in kept)
    assert np.all(np.diff(list(kept.values())) >= 1 / max_fps - 1e-6)


def test_keep_yields_the_frames_an_analysis_kept_with_their_times() -> None:
    """The annotated video's reader: the analysis's frame indices, in order and at their own times, whatever the
    thinning that chose them (here an irregular set)."""
    every = times(POSE_1)
    chosen = [0, 3, 4, 50, 119]
    with VideoReader(POSE_1, keep=set(chosen)) as reader:
        kept = {frame.index: frame.t_s for frame in reader}
        assert reader.frames_decoded == 120
    assert list(kept) == chosen
    assert all(kept[i] == every[i] for i in kept)


def test_keep_decodes_no_further_than_its_last_frame() -> None:
    """A part of the annotated video stops decoding at its own last frame, not at the end of the clip."""
    with VideoReader(POSE_1, keep={2, 40}) as reader:
        assert [frame.index for frame in reader] == [2, 40]
        assert reader.frames_decoded == 41
        assert not reader.truncated


def test_max_fps_on_variable_rate_uses_the_real_gap() -> None:
    every = times(DATA / "vfr_gap_pose_1.mp4")
    kept = times(DATA / "vfr_gap_pose_1.mp4", max_fps=10)
    assert all(kept[i] == every[i] for i in kept)
    assert np.all(np.diff(list(kept.values())) >= 0.1 - 1e-6)
    assert 20 in kept  # the first frame after the 0.5 s hole is due at once


# --- truncation --------------------------------------------------------------------------------------------


def test_cut_off_clip_decodes_what_it_can(tmp_path: Path) -> None:
    # Index first, so a copy cut at 40 % still opens and decodes its first 0.57 s.
    cut = cut_bytes(CAM02, tmp_path / "cut.mp4", 0.4)
    with VideoReader(cut, max_fps=5) as reader:
        last = [frame.t_s for frame in reader][-1]
        assert reader.truncated
        assert 0 < reader.frames_decoded < 50
        assert reader.info.frame_count == 100
        assert reader.info.duration_s == pytest.approx(100 / 60)
    assert last < 0.6


def test_complete_clip_is_not_truncated() -> None:
    with VideoReader(CAM02, max_fps=5) as reader:
        for _ in reader:
            pass
        assert reader.frames_decoded == reader.info.frame_count == 100
        assert not reader.truncated


def test_header_overcounting_by_three_frames_is_not_truncation() -> None:
    path = shared_clip("negative/neg_studio_man_warrior2_front.mp4")
    with VideoReader(path, max_fps=1) as reader:
        for _ in reader:
            pass
        assert (reader.frames_decoded, reader.info.frame_count) == (873, 876)
        assert not reader.truncated


# --- streaming ---------------------------------------------------------------------------------------------


def test_frames_stream_one_at_a_time() -> None:
    frame_bytes = 1920 * 1080 * 3  # 100 frames held in a list would be 622 MB
    with VideoReader(CAM01) as reader:
        frames = iter(reader)
        assert inspect.isgenerator(frames)
        assert reader.frames_decoded == 0
        next(frames)
        assert reader.frames_decoded == 1
        next(frames)
        assert reader.frames_decoded == 2
        tracemalloc.start()
        try:
            for _ in frames:
                pass
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert reader.frames_decoded == 100
    assert peak < 3 * frame_bytes


def test_tracemalloc_sees_frames_kept_alive() -> None:
    # Control for the test above: OpenCV's frames are numpy arrays, which tracemalloc does count.
    tracemalloc.start()
    try:
        with VideoReader(POSE_1) as reader:
            kept = [frame for _, frame in zip(range(5), reader, strict=False)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(kept) == 5
    assert peak >= 5 * 576 * 576 * 3


def test_stopping_early_is_not_truncation_and_a_new_pass_restarts() -> None:
    with VideoReader(POSE_1) as reader:
        first = [frame.index for _, frame in zip(range(3), reader, strict=False)]
        assert not reader.truncated
        again = [frame.index for _, frame in zip(range(3), reader, strict=False)]
    assert first == again == [0, 1, 2]


def test_the_writer_keeps_the_picture_and_pads_an_odd_size(tmp_path: Path) -> None:
    """Frames go to ffmpeg as YUV 4:2:0 converted by OpenCV: the H.264 file decodes to the frames written (x264's
    loss only), an odd size padded by one column and row (4:2:0 needs even sizes)."""
    from balance.video.writer import open_writer

    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:75, 0:101]
    base = np.stack([xx * 2, yy * 3, (xx + yy)], axis=2).astype(np.uint8)  # smooth colours, as a picture has
    frames = [np.clip(base + rng.integers(0, 4, base.shape), 0, 255).astype(np.uint8) for _ in range(10)]
    writer, codec, _ = open_writer(tmp_path / "odd.mp4", 101, 75, 15.0)
    if codec != "h264":
        pytest.skip("no ffmpeg with libx264 here: the OpenCV fallback writes BGR itself")
    for frame in frames:
        writer.write(frame)
    writer.close()
    cap = cv2.VideoCapture(str(tmp_path / "odd.mp4"))
    decoded = []
    while (got := cap.read())[0]:
        decoded.append(got[1])
    cap.release()
    assert len(decoded) == 10 and decoded[0].shape == (76, 102, 3)
    for frame, back in zip(frames, decoded, strict=True):
        assert np.abs(back[:75, :101].astype(int) - frame).mean() < 3  # colours as drawn, not shifted
