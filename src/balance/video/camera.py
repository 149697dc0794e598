"""Live frame sources for `balance record`: a camera, or a clip played as one, behind the VideoReader interface.

Frames carry monotonic-clock times; a consumer slower than real time gets the newest frame and the rest are dropped.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

import cv2
import cv2.utils.logging as cv_log

from balance.errors import VideoError
from balance.video.reader import Frame, VideoReader

# A camera that has not produced its first frame after this long is held by another program or broken.
FIRST_FRAME_TIMEOUT_S = 5.0

FrameSink = Callable[[Frame], None]


class LiveSource:
    """Captures frames on a background thread and hands the consumer only the newest one.

    Every captured frame goes to the sinks (the recorder) on the capture thread, so the saved clip keeps
    every frame even when the pose model is slower than the camera. `frames_dropped` counts frames that
    were replaced by a newer one before the consumer took them. `clock_origin` is the monotonic time of
    t_s = 0, so a consumer can measure its latency as time.monotonic() - clock_origin - frame.t_s.
    """

    width: int
    height: int
    fps_nominal: float
    realtime = True  # frames arrive at their own times (False: file playback in lockstep with the consumer)

    def __init__(self, *, lockstep: bool = False) -> None:
        self.frames_captured = 0
        self.frames_delivered = 0
        self.frames_dropped = 0
        self.clock_origin = 0.0
        self.error: str | None = None  # why capture stopped early (camera unplugged), if it did
        self._lockstep = lockstep  # wait for the consumer instead of dropping (file playback for checks)
        self._sinks: list[FrameSink] = []
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._ended = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def add_sink(self, sink: FrameSink) -> None:
        """Call sink(frame) for every captured frame, on the capture thread, before it is offered to the consumer."""
        self._sinks.append(sink)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
            self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._release()

    def __enter__(self) -> LiveSource:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        self.start()
        while True:
            with self._cond:
                while self._latest is None and not self._ended:
                    self._cond.wait()
                frame = self._latest
                self._latest = None
                self._cond.notify_all()
            if frame is None:
                return
            self.frames_delivered += 1
            yield frame

    def _publish(self, frame: Frame) -> bool:
        """Record and offer one frame; False when the consumer has asked capture to stop."""
        self.frames_captured += 1
        for sink in self._sinks:
            sink(frame)
        with self._cond:
            while self._lockstep and self._latest is not None and not self._stopping:
                self._cond.wait()
            if self._latest is not None:
                self.frames_dropped += 1
            self._latest = frame
            self._cond.notify_all()
            return not self._stopping

    def _run(self) -> None:
        try:
            self._capture()
        except Exception as exc:  # noqa: BLE001 - reported through `error`, the consumer sees the stream end
            self.error = f"capture stopped: {exc}"
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def _capture(self) -> None:
        """Read frames and _publish() each until the source ends or _publish() returns False."""
        raise NotImplementedError

    def _release(self) -> None:
        """Free the device or file once the capture thread has stopped."""


class CameraSource(LiveSource):
    """An OpenCV camera (index, device path or stream URL) at a chosen size and rate, timed by the monotonic clock."""

    def __init__(self, device: int | str, width: int = 640, height: int = 480, fps: float = 30.0) -> None:
        super().__init__()
        self.device = device
        self._cap = _open_camera(device)
        # Drivers treat these as wishes: read back what the camera actually delivers.
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_FPS, fps)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's queue would add latency; we drop instead
        first = _first_frame(self._cap, device)
        self.height, self.width = first.shape[:2]
        reported = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps_nominal = reported if math.isfinite(reported) and 1 <= reported <= 240 else fps

    def _capture(self) -> None:
        cap = self._cap
        index = 0
        while True:
            if not cap.grab():
                self.error = f"camera {self.device!r} stopped delivering frames (unplugged or taken by another program)"
                return
            now = time.monotonic()  # grab() returns when the frame has arrived: the closest clock we have
            ok, image = cap.retrieve()
            if not ok or image is None:
                continue
            if index == 0:
                self.clock_origin = now
            if not self._publish(Frame(index=index, t_s=now - self.clock_origin, image=image)):
                return
            index += 1

    def _release(self) -> None:
        self._cap.release()


class FileAsCamera(LiveSource):
    """A clip played through the camera interface: each frame is released at its own time after start.

    With realtime=True frames are stamped with the monotonic time they were released (their container
    time plus scheduling delay) and a slow consumer misses frames, exactly as with a camera. With
    realtime=False every frame is handed over in turn, stamped with its container time, as fast as the
    consumer takes them.
    """

    def __init__(self, path: str | Path, realtime: bool = True) -> None:
        super().__init__(lockstep=not realtime)
        self.realtime = realtime
        self._reader = VideoReader(path)
        info = self._reader.info
        self.path = info.path
        self.width, self.height = info.width, info.height
        self.fps_nominal = info.fps_nominal or 30.0

    def _capture(self) -> None:
        self.clock_origin = time.monotonic()
        for frame in self._reader:
            t_s = frame.t_s
            if self.realtime:
                wait = self.clock_origin + frame.t_s - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                t_s = time.monotonic() - self.clock_origin
            if not self._publish(Frame(index=frame.index, t_s=t_s, image=frame.image)):
                return

    def _release(self) -> None:
        self._reader.close()


def _open_camera(device: int | str) -> cv2.VideoCapture:
    # OpenCV logs a warning per backend it tries for a missing device; the user gets our one line instead.
    level = cv_log.getLogLevel()
    cv_log.setLogLevel(cv_log.LOG_LEVEL_SILENT)
    try:
        cap = cv2.VideoCapture(device)
    finally:
        cv_log.setLogLevel(level)
    if not cap.isOpened():
        raise VideoError(
            f"no camera {device!r} could be opened: it is not connected, or another program is using it",
            "Connect a camera, close other programs that use it (video calls), or choose another with --camera N",
        )
    return cap


def _first_frame(cap: cv2.VideoCapture, device: int | str) -> cv2.typing.MatLike:
    deadline = time.monotonic() + FIRST_FRAME_TIMEOUT_S
    while time.monotonic() < deadline:
        ok, image = cap.read()
        if ok and image is not None:
            return image
        time.sleep(0.05)
    cap.release()
    raise VideoError(
        f"camera {device!r} opened but sent no picture in {FIRST_FRAME_TIMEOUT_S:.0f} s: it is busy or not working",
        "Close other programs that use the camera (video calls, browsers), unplug and reconnect it, and try again",
    )
