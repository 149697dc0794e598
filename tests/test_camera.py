"""Live frame sources: a missing camera is one clear line; a clip played as a camera keeps real-time timing.

No camera exists on the test machines, so the timing behaviour is checked with FileAsCamera on a real clip.
"""

from __future__ import annotations

import time

import pytest

from balance.errors import VideoError
from balance.video.camera import CameraSource, FileAsCamera
from balance.video.reader import Frame

from .conftest import SAMPLES

CLIP = SAMPLES / "synthetic" / "sway_left_clean.mp4"  # 30 fps, 426x640


def test_missing_camera_is_one_line_video_error() -> None:
    with pytest.raises(VideoError) as err:
        CameraSource(97)
    text = str(err.value)
    assert "\n" not in text
    assert "camera 97" in text and "--camera" in text


def test_slow_consumer_gets_the_newest_frame_and_the_rest_are_counted_as_dropped() -> None:
    recorded: list[Frame] = []
    got: list[Frame] = []
    start = time.monotonic()
    with FileAsCamera(CLIP) as source:
        source.add_sink(recorded.append)
        for frame in source:
            got.append(frame)
            time.sleep(0.1)  # a consumer at ~10 fps behind a 30 fps source
            if frame.t_s > 2.0:
                break
    wall = time.monotonic() - start
    assert source.frames_dropped > 20  # ~2/3 of ~60 frames
    assert source.frames_delivered == len(got)
    assert source.frames_captured >= source.frames_delivered + source.frames_dropped
    # Every frame still reaches the recorder, in order.
    assert [f.index for f in recorded] == list(range(len(recorded)))
    # The consumer saw the newest frame each time: big steps in index, times that follow the real clock.
    steps = [b.index - a.index for a, b in zip(got, got[1:], strict=False)]
    assert max(steps) >= 3
    assert all(b.t_s > a.t_s for a, b in zip(got, got[1:], strict=False))
    for f in got:
        assert f.t_s == pytest.approx(f.index / 30.0, abs=0.1)  # released on time, stamped when released
    assert got[-1].t_s <= wall


def test_lockstep_playback_hands_over_every_frame_with_its_container_time() -> None:
    with FileAsCamera(CLIP, realtime=False) as source:
        frames = []
        for frame in source:
            frames.append(frame)
            if len(frames) == 45:
                break
    assert [f.index for f in frames] == list(range(45))
    assert [round(f.t_s * 30) for f in frames] == list(range(45))
    assert source.frames_dropped == 0
    assert (source.width, source.height, source.fps_nominal) == (426, 640, 30.0)
