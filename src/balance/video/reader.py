"""Open a clip, make sure it is a video that decodes, and stream its frames upright with container times.

Every unusable input (missing, empty, not a video, a still photo, undecodable) becomes a one-line VideoError.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from balance.errors import VideoError

_HASH_CHUNK = 1 << 20
# OpenCV reports times as float milliseconds, so exact frame intervals come back a few ulps off.
_TIME_EPS_S = 1e-6
# N4 in the shared media decodes 873 of its 876 header frames and is complete: headers overcount a little.
_TRUNCATION_SLACK_FRAMES = 5
_TRUNCATION_SLACK_FRACTION = 0.01
_TRUNCATION_SLACK_S = 0.2
_FORMATS = "MP4 or MOV (H.264) plays everywhere; AVI, WebM and MKV work too"


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a clip, plus the displayed frame size and the file's hash."""

    path: Path
    sha256: str
    width: int
    height: int
    rotation_deg: int
    fps_nominal: float
    frame_count: int
    duration_s: float
    codec: str


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its index in the file, its container time and the upright BGR image."""

    index: int
    t_s: float
    image: np.ndarray


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def probe(path: str | Path) -> VideoInfo:
    """Check that the file is a video with at least one decodable frame and describe it."""
    p = Path(path)
    head = _check_file(p)
    is_image = cv2.haveImageReader(str(p))
    cap = _open(p)
    try:
        # OpenCV's FFmpeg backend opens a JPEG or PNG as a one-frame video, so ask the image codecs first.
        if is_image and (not cap.isOpened() or _header_frame_count(cap) <= 1):
            raise VideoError(
                f"{p} is a still image, not a video",
                "Record a video clip of the person standing on one leg, whole body and feet in view, "
                "and give that file instead",
            )
        if not cap.isOpened():
            raise _unopenable(p, head)
        ok, image = cap.read()
        if not ok or image is None:
            raise VideoError(
                f"{p} opens as a video but not a single frame of it decodes",
                "The file is probably damaged or was cut off while copying; copy the clip again "
                "from the phone or camera",
            )
        fps = cap.get(cv2.CAP_PROP_FPS)
        fps = fps if math.isfinite(fps) and fps > 0 else 0.0
        frame_count = _header_frame_count(cap)
        return VideoInfo(
            path=p,
            sha256=sha256_file(p),
            height=int(image.shape[0]),
            width=int(image.shape[1]),
            rotation_deg=_rotation_deg(cap),
            fps_nominal=fps,
            frame_count=frame_count,
            duration_s=frame_count / fps if fps > 0 else 0.0,
            codec=_fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)),
        )
    finally:
        cap.release()


class VideoReader:
    """Stream a clip's frames one at a time, upright, timed by the container, optionally thinned to max_fps.

    After a complete pass, `truncated` says whether decoding stopped clearly before the header's end and
    `timestamps_from_container` whether every time came from the container (False: some were estimated
    from the frame index and the nominal rate because the container's were missing or went backwards).
    """

    def __init__(
        self,
        clip: VideoInfo | str | Path,
        max_fps: float | None = None,
        skip_before_s: float = 0.0,
        keep: Collection[int] | None = None,
    ) -> None:
        """`clip`: a path, or the VideoInfo `probe` gave (then the file is neither checked nor hashed again).
        Frames before `skip_before_s`, and with `keep` those whose index is not in it (the frames an analysis
        kept), are decoded (times and thinning stay those of a whole pass) but not converted or yielded; with `keep`
        the pass ends at its last frame (the annotated video decodes no further than the analysis's last frame)."""
        if max_fps is not None and not max_fps > 0:
            raise ValueError(f"max_fps must be positive, got {max_fps}")
        self.info = clip if isinstance(clip, VideoInfo) else probe(clip)
        self.max_fps = max_fps
        self.skip_before_s = skip_before_s
        self.keep = None if keep is None else frozenset(keep)
        self._last_kept = max(self.keep, default=-1) if self.keep is not None else math.inf
        self.frames_decoded = 0
        self.truncated = False
        self.timestamps_from_container = True
        self._cap: cv2.VideoCapture | None = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __iter__(self) -> Iterator[Frame]:
        # Each pass opens the file afresh, so iterating twice starts from the first frame again.
        self.close()
        cap = _open(self.info.path)
        self._cap = cap
        self.frames_decoded = 0
        self.truncated = False
        self.timestamps_from_container = True
        min_gap_s = 1.0 / self.max_fps - _TIME_EPS_S if self.max_fps else 0.0
        last_t = last_kept_t = -math.inf
        first_ms = 0.0
        try:
            # grab() decodes; retrieve() does the colour conversion and rotation, needed only for kept frames.
            while self.frames_decoded <= self._last_kept and cap.grab():
                index = self.frames_decoded
                self.frames_decoded += 1
                pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                if index == 0:
                    first_ms = pos_ms if math.isfinite(pos_ms) else 0.0
                    t = 0.0
                else:
                    t = (pos_ms - first_ms) / 1000.0
                    if not t > last_t + _TIME_EPS_S:
                        t = self._estimated_time(last_t)
                last_t = t
                if t - last_kept_t < min_gap_s or (self.keep is not None and index not in self.keep):
                    continue
                if t < self.skip_before_s:
                    last_kept_t = t
                    continue
                ok, image = cap.retrieve()
                if not ok:
                    break
                last_kept_t = t
                yield Frame(index=index, t_s=t, image=image)
            if self._cap is not cap:
                return  # close() was called mid-pass: the end came from us, not from the file
            if self.frames_decoded == 0:
                raise VideoError(
                    f"{self.info.path} stopped decoding before its first frame",
                    "Check that the file is not being changed or copied while it is analysed",
                )
            self.truncated = self.frames_decoded <= self._last_kept and self._stopped_early(last_t)
        finally:
            cap.release()
            if self._cap is cap:
                self._cap = None

    def _estimated_time(self, last_t: float) -> float:
        """Time for a frame whose container time is missing (OpenCV gives 0) or not after the previous one."""
        if self.info.fps_nominal <= 0:
            raise VideoError(
                f"{self.info.path} has neither usable frame times nor a frame rate",
                f"Re-export or convert the clip ({_FORMATS}) and try again",
            )
        self.timestamps_from_container = False
        return last_t + 1.0 / self.info.fps_nominal

    def _stopped_early(self, last_t: float) -> bool:
        info = self.info
        if info.frame_count <= 0:
            return False
        slack = max(_TRUNCATION_SLACK_FRAMES, _TRUNCATION_SLACK_FRACTION * info.frame_count)
        if self.frames_decoded >= info.frame_count - slack:
            return False
        # Some containers only estimate the count (duration x rate), so the time reached must be short too.
        if info.duration_s > 0:
            covered_s = last_t + 1.0 / info.fps_nominal
            slack_s = max(_TRUNCATION_SLACK_S, _TRUNCATION_SLACK_FRACTION * info.duration_s)
            return covered_s < info.duration_s - slack_s
        return True


def _check_file(p: Path) -> bytes:
    """Reject what is plainly not a readable file, and return its first bytes for naming the container."""
    if not p.exists():
        raise VideoError(f"Video file not found: {p}", "Check the path and file name and try again")
    if p.is_dir():
        raise VideoError(f"{p} is a folder, not a video file", "Give the path of one clip inside it")
    if not p.is_file():  # a device (/dev/zero), a pipe or a socket: never opened, a pipe would block
        raise VideoError(f"{p} is not a regular file", "Save the clip to a file and give that file")
    if p.stat().st_size == 0:
        raise VideoError(
            f"{p} is empty (0 bytes)",
            "The copy or download did not finish; copy the clip again from the phone or camera",
        )
    try:
        with p.open("rb") as f:
            return f.read(16)
    except OSError as err:
        raise VideoError(
            f"{p} cannot be read ({err.strerror})", "Check that you may read the file, then try again"
        ) from err


def _open(p: Path) -> cv2.VideoCapture:
    # The FFmpeg backend ships in every opencv-python wheel and is the one that reads the rotation flag and
    # the presentation times; other backends (MSMF, AVFoundation) differ on both.
    cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    # On by default in OpenCV 5, but rotation must never depend on a build's default. OpenCV refuses it
    # as an open() parameter, hence set() after opening.
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def _unopenable(p: Path, head: bytes) -> VideoError:
    container = _container_name(head)
    if container == "an MP4/MOV" and _mp4_tracks(p) == {"soun"}:
        return VideoError(
            f"{p} has no video track (only sound)", "Give the video clip itself, not a sound recording of it"
        )
    if container:
        return VideoError(
            f"{p} looks like {container} file but cannot be opened; it is probably damaged or incomplete",
            "Copy the clip again from the phone or camera (a cut-off copy cannot be read)",
        )
    return VideoError(f"{p} is not a video file OpenCV can read", f"Give a video clip: {_FORMATS}")


# An MP4/MOV track's kind is its handler: 'hdlr', version and flags, a reserved word, then 'vide' or 'soun'.
_MP4_HANDLER = re.compile(rb"hdlr.{8}(vide|soun)", re.S)
# The track headers live in the 'moov' box, at the start of a file written for streaming, else at its end.
_MP4_SCAN_BYTES = 4 << 20


def _mp4_tracks(p: Path) -> set[str]:
    """The kinds of track ('vide', 'soun') an MP4/MOV file declares, from the ends where its header lives."""
    size = p.stat().st_size
    with p.open("rb") as f:
        data = f.read(_MP4_SCAN_BYTES)
        if size > _MP4_SCAN_BYTES:
            f.seek(max(_MP4_SCAN_BYTES, size - _MP4_SCAN_BYTES))
            data += f.read()
    return {m.decode() for m in _MP4_HANDLER.findall(data)}


def _container_name(head: bytes) -> str:
    """Name the video container a file's first bytes announce, or '' if they announce none."""
    if head[4:8] == b"ftyp":
        return "an MP4/MOV"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "a WebM/MKV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "an AVI"
    return ""


def _header_frame_count(cap: cv2.VideoCapture) -> int:
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    # OpenCV gives INT64_MIN for an image and 0 or -1 when the container has no count.
    return int(count) if math.isfinite(count) and count > 0 else 0


def _rotation_deg(cap: cv2.VideoCapture) -> int:
    """Clockwise turn the container asks for (the old `rotate` tag), snapped to a quarter turn."""
    angle = cap.get(cv2.CAP_PROP_ORIENTATION_META)
    if not math.isfinite(angle):
        return 0
    return int(round(angle / 90.0)) % 4 * 90


def _fourcc_text(code: float) -> str:
    value = int(code) if math.isfinite(code) else 0
    chars = (chr((value >> shift) & 0xFF) for shift in (0, 8, 16, 24))
    return "".join(c for c in chars if c.isprintable()).strip()
