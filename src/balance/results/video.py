"""Draw the analysis onto the clip: subject skeleton, centre of mass over the foot, sway trail, timer and flags.

Writes an MP4 with the source's frame rate and frame count: H.264 through ffmpeg when found, else OpenCV's MPEG-4.
"""

from __future__ import annotations

import contextlib
import functools
import math
import shutil
import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from balance.assess.catalogue import FLAGS, flag_words
from balance.assess.flags import FOOT_HALF_WIDTH
from balance.assess.tripod import FOOT_PER_LEG, TRIPOD
from balance.files import atomic_path
from balance.measure.body import centre_of_mass, hip_centre, shoulder_centre
from balance.measure.signals import clean, hampel
from balance.pipeline import Analysis
from balance.pose import landmarks as lm
from balance.pose.skeleton import BODY_BONES, FOOT_BONES, LEG_BONES
from balance.results import document
from balance.video.reader import VideoReader

# Below this MediaPipe visibility a landmark is a guess; its bones are drawn thin so they do not mislead.
MIN_VISIBILITY = 0.5
TRAIL_S = 1.0
# A flag that fired at an instant stays on screen this long, enough to read two or three words; a flag
# about the whole trial (no times) is shown for as long once the analysed window starts.
FLAG_SHOW_S = 2.5
FLAG_LINE_CHARS = 24
# Colours are BGR. Every mark is drawn over a dark outline so it reads on light and dark backgrounds.
WHITE = (255, 255, 255)
DARK = (20, 20, 20)
STANCE = (0, 215, 255)
FREE = (235, 180, 90)
COM = (40, 40, 235)
BASE = (90, 225, 90)
FLAG = (0, 140, 255)
FOOT_FILL = (200, 215, 225)
FONT = cv2.FONT_HERSHEY_DUPLEX
MIN_FONT_SCALE = 0.4
# Hershey fonts are ASCII only.
_ASCII = str.maketrans({"°": " deg", "–": "-", "—": "-", "≥": ">=", "≤": "<=", "’": "'", "±": "+-", "×": "x"})
# A left foot seen from above, toes up, in the tripod's frame: (fore-aft from the heel, medial towards the big
# toe), foot lengths. The ball is 0.39 foot lengths wide at the metatarsal heads (Hawes & Sovak 1994, as in
# tripod.py), the heel about 0.25; the big toe reaches the same length as the second toe.
FOOT_OUTLINE = np.array(
    [
        (0.00, 0.00),
        (0.02, 0.09),
        (0.12, 0.13),
        (0.30, 0.12),
        (0.50, 0.15),
        (0.66, 0.19),
        (0.75, 0.20),
        (0.88, 0.18),
        (0.98, 0.14),
        (1.02, 0.09),
        (1.00, 0.04),
        (0.97, 0.00),
        (0.95, -0.05),
        (0.90, -0.10),
        (0.82, -0.15),
        (0.70, -0.20),
        (0.62, -0.21),
        (0.45, -0.17),
        (0.25, -0.13),
        (0.12, -0.12),
        (0.02, -0.08),
    ]
)


@dataclass(frozen=True)
class Flag:
    """One flag as it is shown: code, short words, when (clip seconds) and near which body part."""

    code: str
    label: str
    start_s: float
    end_s: float
    anchor: str  # "hip", "trunk", "foot", "free_foot", "arms" or "com"


@dataclass(frozen=True)
class Encoded:
    """What write_annotated produced: the file, its codec, its frame count and, when it will not play
    everywhere, why."""

    path: Path
    codec: str
    frames: int
    note: str | None


def flag_label(flag: document.Flag) -> str:
    """The few words drawn for a flag: the catalogue's label (the flag's own text for a code it does not
    know), with its size when that is an angle."""
    label = flag_words(flag.code).label if flag.code in FLAGS else flag.text.split(":")[0]
    if flag.unit == "deg" and flag.value is not None:
        label += f" {abs(flag.value):.0f} deg"
    return label


def flags_in(trial: document.Trial) -> list[Flag]:
    """The flags of one trial, one Flag per time it fired; a flag without times is about the whole trial
    and is shown when the analysed window starts."""
    out = []
    for raw in trial.flags:
        spans = raw.times or ((trial.metrics.analysed_from_s, trial.metrics.analysed_from_s),)
        anchor = flag_words(raw.code).anchor
        out += [Flag(raw.code, flag_label(raw), a, max(b, a + FLAG_SHOW_S), anchor) for a, b in spans]
    return out


def flags_from_doc(doc: document.Document) -> list[Flag]:
    return [f for t in doc.trials for f in flags_in(t)]


class _Writer(Protocol):
    def write(self, image: np.ndarray) -> None: ...

    def close(self) -> None: ...


@functools.lru_cache(maxsize=1)
def ffmpeg_with_x264() -> str | None:
    """An ffmpeg binary that has the libx264 encoder: imageio-ffmpeg's, else one on PATH, else None."""
    candidates = []
    try:
        import imageio_ffmpeg

        candidates.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    if which := shutil.which("ffmpeg"):
        candidates.append(which)
    for exe in candidates:
        try:
            encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if "libx264" in encoders.stdout:
            return exe
    return None


class _FfmpegWriter:
    """Raw BGR frames piped to ffmpeg: H.264 (yuv420p, faststart) plays in browsers, phones and players."""

    def __init__(self, exe: str, path: Path, width: int, height: int, fps: float) -> None:
        cmd = [
            exe,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{width}x{height}",
            "-framerate",
            f"{fps:.6f}",
            "-i",
            "-",
            "-an",
            # yuv420p needs even dimensions: an odd-sized clip gets one black pixel row or column.
            "-vf",
            "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            str(path),
        ]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, image: np.ndarray) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(np.ascontiguousarray(image).tobytes())
        except BrokenPipeError as exc:
            raise RuntimeError(f"ffmpeg stopped: {self._stderr()}") from exc

    def _stderr(self) -> str:
        self._proc.wait()
        assert self._proc.stderr is not None
        return self._proc.stderr.read().decode(errors="replace").strip()

    def close(self) -> None:
        assert self._proc.stdin is not None
        if not self._proc.stdin.closed:
            self._proc.stdin.close()
        err = self._stderr()
        if self._proc.returncode != 0:
            raise RuntimeError(f"ffmpeg failed ({self._proc.returncode}): {err}")


class _OpenCvWriter:
    def __init__(self, path: Path, width: int, height: int, fps: float) -> None:
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
        if not self._writer.isOpened():
            raise RuntimeError("OpenCV cannot open an MPEG-4 video writer")

    def write(self, image: np.ndarray) -> None:
        self._writer.write(image)

    def close(self) -> None:
        self._writer.release()


def _open_writer(path: Path, width: int, height: int, fps: float) -> tuple[_Writer, str, str | None]:
    exe = ffmpeg_with_x264()
    if exe is not None:
        return _FfmpegWriter(exe, path, width, height, fps), "h264", None
    # OpenCV's pip wheels have no H.264 encoder and their VP9 one runs at a few frames a second, so
    # MPEG-4 Part 2 is the usable fallback; it plays in VLC and desktop players but not in browsers.
    note = (
        "annotated.mp4 is MPEG-4 Part 2 (no ffmpeg with libx264 was found): it plays in VLC and most desktop "
        "players but not in web browsers; install imageio-ffmpeg for H.264"
    )
    return _OpenCvWriter(path, width, height, fps), "mpeg4", note


def _smooth_points(t: np.ndarray, p: np.ndarray, valid: np.ndarray, fs: float) -> np.ndarray:
    """The analysis's own cleaning (Hampel, gap bridging, 5 Hz low-pass) of a pixel trace, back on times t."""
    if valid.sum() < 2 or len(t) < 4:
        return np.where(valid[:, None], p, np.nan)
    grid, filtered, _ = clean(t, p, valid, fs)
    out = np.column_stack([np.interp(t, grid, filtered[:, k]) for k in range(p.shape[1])])
    # Bridged gaps are kept; frames outside the first and last valid ones have nothing to stand on.
    idx = np.flatnonzero(valid)
    out[: idx[0]] = np.nan
    out[idx[-1] + 1 :] = np.nan
    return out


@dataclass(frozen=True)
class _TrialView:
    index: int
    stance: str
    view: str  # "front", "side" or "oblique"
    lift_off_s: float
    end_s: float  # touch-down, or the trial's last frame
    floor_y: float  # the stance foot's lowest point in the picture, median over the trial
    foot_px: float  # the anthropometric foot length in pixels (tripod.py's foot model)
    toe_sign: float  # +1 when the toes point towards +x (side view)
    grid: np.ndarray  # the metrics' time grid
    projection: np.ndarray | None  # (len(grid), 2) centre of mass over the foot: fore-aft, medial (foot lengths)


def _trial_views(analysis: Analysis, feet: Mapping[str, np.ndarray]) -> list[_TrialView]:
    views = []
    for k, m in enumerate(analysis.trials):
        tr = m.trial
        sl = slice(tr.start_index, tr.stop_index)
        ys = feet[tr.stance_leg][sl, :, 1]
        floor = float(np.nanmedian(np.nanmax(ys, axis=1))) if np.isfinite(ys).any() else math.nan
        toes = feet[tr.stance_leg][sl, 2, 0] - feet[tr.stance_leg][sl, 1, 0]
        proj = analysis.assessments[k].tripod.projection
        ok = np.shape(proj) == (len(m.grid), 2)
        views.append(
            _TrialView(
                index=k,
                stance=tr.stance_leg,
                view=m.view,
                lift_off_s=tr.lift_off_s,
                end_s=tr.touch_down_s if tr.touch_down_s is not None else tr.end_s,
                floor_y=floor,
                foot_px=FOOT_PER_LEG * m.scale.leg_length_px,
                toe_sign=1.0 if np.nanmean(toes) >= 0 else -1.0,
                grid=np.asarray(m.grid, dtype=float),
                projection=np.asarray(proj, dtype=float) if ok else None,
            )
        )
    return views


class Overlay:
    """Everything needed to annotate any frame of the clip, precomputed once from the analysis."""

    def __init__(self, analysis: Analysis, flags: Sequence[Flag] = ()) -> None:
        track = analysis.track
        self.t = np.asarray(track.t)
        self.xy = np.asarray(track.image_xy)
        self.vis = np.asarray(track.visibility)
        self.flags = tuple(flags)
        w, h = track.width, track.height
        # Sizes follow the picture: 1.0 for 720 px high, capped by the width so a portrait clip's timer
        # still fits across it; text then stays about 3 % of the height, readable when a phone shrinks it.
        self.s = min(h / 720, w / 540)
        self.w, self.h = w, h
        fs = min(30.0, track.fps) if track.fps else 30.0
        body = [lm.SHOULDER["left"], lm.SHOULDER["right"], lm.HIP["left"], lm.HIP["right"]]
        valid = np.all(self.vis[:, body] >= MIN_VISIBILITY, axis=1) & np.isfinite(self.xy[:, 0, 0])
        self.com = _smooth_points(self.t, centre_of_mass(self.xy), valid, fs)
        n = len(self.t)
        # MediaPipe's foot points jump for single frames; the Hampel filter keeps the floor line still.
        self.feet = {s: hampel(self.xy[:, list(lm.FOOT[s])].reshape(n, -1)).reshape(n, 3, 2) for s in lm.SIDES}
        self.trials = _trial_views(analysis, self.feet)
        self.state = np.asarray(analysis.timeline.state)

    # --- primitives --------------------------------------------------------------------------------------
    def px(self, v: float) -> int:
        return max(1, round(v * self.s))

    def _font(self, scale: float) -> float:
        # Hershey text below about 0.4 turns to mush, whatever the picture's size.
        return max(scale * self.s, MIN_FONT_SCALE)

    def _text(self, img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, ...]) -> None:
        """Text with a dark outline. The outline is the glyphs' mask grown by a few pixels, not a second,
        thicker putText: Hershey glyphs advance by their stroke width, so a thicker copy drifts sideways."""
        text, size, stroke, grow = _ascii(text), self._font(scale), self.px(2), self.px(2)
        (tw, th), base = cv2.getTextSize(text, FONT, size, stroke)
        x0, y0 = org[0] - grow - 1, org[1] - th - grow - 1
        mask = np.zeros((th + base + 2 * grow + 2, tw + 2 * grow + 2), np.uint8)
        cv2.putText(mask, text, (org[0] - x0, org[1] - y0), FONT, size, 255, stroke, cv2.LINE_AA)
        outline = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        # Only the part of the box inside the picture is painted.
        ix0, iy0 = max(0, x0), max(0, y0)
        ix1, iy1 = min(img.shape[1], x0 + mask.shape[1]), min(img.shape[0], y0 + mask.shape[0])
        if ix1 <= ix0 or iy1 <= iy0:
            return
        roi = img[iy0:iy1, ix0:ix1].astype(np.float32)
        sub = (slice(iy0 - y0, iy1 - y0), slice(ix0 - x0, ix1 - x0))
        for alpha, paint in ((outline[sub], DARK), (mask[sub], colour)):
            a = alpha[..., None].astype(np.float32) / 255.0
            roi = roi * (1 - a) + np.array(paint, np.float32) * a
        img[iy0:iy1, ix0:ix1] = roi.astype(np.uint8)

    def _text_size(self, text: str, scale: float) -> tuple[int, int]:
        (tw, th), _ = cv2.getTextSize(_ascii(text), FONT, self._font(scale), self.px(2))
        grow = self.px(2)
        return tw + 2 * grow, th + grow

    def _line(self, img: np.ndarray, a: np.ndarray, b: np.ndarray, colour: tuple[int, ...], width: int) -> None:
        pa, pb = _pt(a), _pt(b)
        if pa is None or pb is None:
            return
        cv2.line(img, pa, pb, DARK, width + self.px(3), cv2.LINE_AA)
        cv2.line(img, pa, pb, colour, width, cv2.LINE_AA)

    def _dot(self, img: np.ndarray, p: np.ndarray, radius: int, colour: tuple[int, ...]) -> None:
        q = _pt(p)
        if q is not None:
            cv2.circle(img, q, radius + self.px(2), DARK, -1, cv2.LINE_AA)
            cv2.circle(img, q, radius, colour, -1, cv2.LINE_AA)

    # --- state at a time ---------------------------------------------------------------------------------
    def nearest(self, t_s: float) -> int:
        """The analysed frame closest in time (frames skipped by max_fps borrow their neighbour's pose)."""
        i = int(np.searchsorted(self.t, t_s))
        if i <= 0:
            return 0
        if i >= len(self.t):
            return len(self.t) - 1
        return i if self.t[i] - t_s < t_s - self.t[i - 1] else i - 1

    def trial_at(self, t_s: float) -> _TrialView | None:
        return next((v for v in self.trials if v.lift_off_s <= t_s <= v.end_s), None)

    def com_at(self, t_s: float) -> np.ndarray:
        return np.array([np.interp(t_s, self.t, self.com[:, k], left=np.nan, right=np.nan) for k in (0, 1)])

    # --- drawing -----------------------------------------------------------------------------------------
    def draw(self, image: np.ndarray, t_s: float) -> np.ndarray:
        """A copy of the frame shown at t_s with the analysis drawn on it."""
        img = image.copy()
        i = self.nearest(t_s)
        view = self.trial_at(t_s)
        stance = view.stance if view is not None else None
        self._skeleton(img, i, stance)
        com = self.com_at(t_s)
        floor_y = view.floor_y if view is not None else self._floor_both(i)
        if view is not None:
            self._base_of_support(img, i, view)
        self._trail(img, t_s)
        if np.all(np.isfinite(com)) and math.isfinite(floor_y):
            self._plumb(img, com, floor_y)
        self._hud(img, t_s, view)
        if view is not None:
            self._foot_map(img, t_s, view)
        self._flags(img, t_s, i, stance, com)
        return img

    def _floor_both(self, i: int) -> float:
        ys = np.concatenate([self.feet[s][i, :, 1] for s in lm.SIDES])
        return float(np.nanmax(ys)) if np.isfinite(ys).any() else math.nan

    def _skeleton(self, img: np.ndarray, i: int, stance: str | None) -> None:
        xy, vis = self.xy[i], self.vis[i]
        if not np.isfinite(xy[0, 0]):
            return
        thick, thin = self.px(5), self.px(2)

        def bone(a: int, b: int, colour: tuple[int, ...], width: int) -> None:
            seen = min(vis[a], vis[b]) >= MIN_VISIBILITY
            self._line(img, xy[a], xy[b], colour, width if seen else thin)

        for a, b in BODY_BONES:
            bone(a, b, WHITE, thick)
        neck = 0.5 * (xy[lm.SHOULDER["left"]] + xy[lm.SHOULDER["right"]])
        self._line(img, neck, xy[lm.NOSE], WHITE, thick)
        for side in lm.SIDES:
            colour = STANCE if side == stance else (FREE if stance is not None else WHITE)
            width = self.px(8) if side == stance else thick
            for a, b in LEG_BONES[side] + FOOT_BONES[side]:
                bone(a, b, colour, width)
        for j in (*range(11, 17), *range(23, 33)):
            self._dot(img, xy[j], self.px(3), WHITE)

    def _base_of_support(self, img: np.ndarray, i: int, view: _TrialView) -> None:
        """The stance foot's extent along the axis the camera sees, on the floor line, as the tripod
        estimate models it: the ball's width in a front view, heel to toe tip in a side view."""
        heel, toe = self.feet[view.stance][i, 1], self.feet[view.stance][i, 2]
        y = view.floor_y
        if not math.isfinite(y) or not np.all(np.isfinite(heel)) or not np.all(np.isfinite(toe)):
            return
        if view.view == "front":
            axis_x = float(np.mean(self.feet[view.stance][i, :, 0]))
            half = FOOT_HALF_WIDTH * view.foot_px
            a, b = np.array([axis_x - half, y]), np.array([axis_x + half, y])
        elif view.view == "side":
            a, b = np.array([heel[0], y]), np.array([heel[0] + view.toe_sign * view.foot_px, y])
        else:
            a, b = np.array([heel[0], y]), np.array([toe[0], y])
        self._line(img, a, b, BASE, self.px(8))

    def _trail(self, img: np.ndarray, t_s: float) -> None:
        sel = (self.t > t_s - TRAIL_S) & (self.t <= t_s)
        pts = [q for q in (_pt(p) for p in (*self.com[sel], self.com_at(t_s))) if q is not None]
        for k in range(1, len(pts)):
            # Older positions fade towards a pale tint of the colour.
            alpha = k / len(pts)
            colour = tuple(int(c * alpha + 230 * (1 - alpha)) for c in COM)
            cv2.line(img, pts[k - 1], pts[k], colour, self.px(4), cv2.LINE_AA)

    def _plumb(self, img: np.ndarray, com: np.ndarray, floor_y: float) -> None:
        foot = np.array([com[0], floor_y])
        _dashed(img, com, foot, DARK, self.px(5), self.px(14))
        _dashed(img, com, foot, COM, self.px(2), self.px(14))
        r = self.px(11)
        self._dot(img, com, r, COM)
        q = _pt(com)
        if q is not None:
            # The quartered disc is the usual centre-of-mass symbol.
            cv2.ellipse(img, q, (r, r), 0, 0, 90, WHITE, -1, cv2.LINE_AA)
            cv2.ellipse(img, q, (r, r), 0, 180, 270, WHITE, -1, cv2.LINE_AA)
        self._dot(img, foot, self.px(6), COM)

    def _hud(self, img: np.ndarray, t_s: float, view: _TrialView | None) -> None:
        pad = self.px(12)
        if view is not None:
            title = f"{view.stance} leg {max(0.0, t_s - view.lift_off_s):.1f} s"
            colour: tuple[int, ...] = STANCE
            sub = f"trial {view.index + 1} of {len(self.trials)}"
        else:
            title, colour, sub = self._between_trials(self.nearest(t_s))
        big, small = 1.2, 0.75
        (tw, th), (sw, sh) = self._text_size(title, big), self._text_size(sub, small)
        _shade(img, 0, 0, max(tw, sw) + 2 * pad, th + sh + 3 * pad)
        self._text(img, title, (pad, pad + th), big, colour)
        self._text(img, sub, (pad, 2 * pad + th + sh), small, WHITE)
        self._legend(img)

    def _between_trials(self, i: int) -> tuple[str, tuple[int, ...], str]:
        """Title, its colour and a second line for a moment outside every trial, from the stance timeline."""
        if not np.isfinite(self.xy[i, 0, 0]):
            return "no person in view", WHITE, "nothing measured"
        state = str(self.state[i]) if i < len(self.state) else "unknown"
        if state == "both":
            return "both feet down", WHITE, "no single-leg trial now"
        if state in lm.SIDES:
            return f"{state} leg", WHITE, "too short to score"
        return "feet not clear", WHITE, "stance unknown"

    def _legend(self, img: np.ndarray) -> None:
        items = (("stance leg", STANCE), ("centre of mass, 1 s trail", COM), ("base of support", BASE))
        scale, pad = 0.65, self.px(8)
        th = self._text_size("Ag", scale)[1]
        row = th + pad
        top = self.h - len(items) * row - 2 * pad
        _shade(img, 0, top, max(self._text_size(text, scale)[0] for text, _ in items) + 3 * pad + th, self.h)
        for k, (text, colour) in enumerate(items):
            y = top + pad + (k + 1) * row - pad // 2
            cv2.rectangle(img, (pad, y - th), (pad + th, y), colour, -1)
            self._text(img, text, (2 * pad + th, y), scale, WHITE)

    def _foot_map(self, img: np.ndarray, t_s: float, view: _TrialView) -> None:
        """Top-right inset: the stance foot from above, its tripod and the centre of mass over it (estimate)."""
        if view.projection is None or not view.grid[0] <= t_s <= view.grid[-1]:
            return
        pad = self.px(10)
        title = "weight on foot (est.)"
        tw, th = self._text_size(title, 0.55)
        scale = self.px(190)  # pixels per foot length
        lo, hi = np.array([-0.1, -0.42]), np.array([1.12, 0.42])  # fore-aft, medial range shown
        box_w = max(int((hi[1] - lo[1]) * scale), tw) + 2 * pad
        box_h = int((hi[0] - lo[0]) * scale) + th + 3 * pad
        x0, y0 = self.w - box_w, 0
        _shade(img, x0, y0, self.w, box_h)
        self._text(img, title, (x0 + pad, y0 + pad + th), 0.55, WHITE)
        # Toes up; a left foot has its big toe on the right, as seen looking down at it.
        mirror = 1.0 if view.stance == "left" else -1.0
        cx, base_y = x0 + box_w / 2, y0 + box_h - pad + lo[0] * scale

        def to_px(fa: float, med: float) -> tuple[int, int]:
            fa, med = float(np.clip(fa, lo[0], hi[0])), float(np.clip(med, lo[1], hi[1]))
            return int(round(cx + mirror * med * scale)), int(round(base_y - fa * scale))

        outline = np.array([to_px(fa, med) for fa, med in FOOT_OUTLINE], dtype=np.int32)
        cv2.fillPoly(img, [outline], FOOT_FILL, cv2.LINE_AA)
        cv2.polylines(img, [outline], True, DARK, self.px(2), cv2.LINE_AA)
        tri = np.array([to_px(*p) for p in TRIPOD.values()], dtype=np.int32)
        cv2.polylines(img, [tri], True, BASE, self.px(2), cv2.LINE_AA)
        for q in tri:
            cv2.circle(img, (int(q[0]), int(q[1])), self.px(5), BASE, -1, cv2.LINE_AA)
        sel = (view.grid > t_s - TRAIL_S) & (view.grid <= t_s)
        trail = [to_px(*p) for p in view.projection[sel] if np.all(np.isfinite(p))]
        if len(trail) > 1:
            cv2.polylines(img, [np.array(trail, dtype=np.int32)], False, COM, self.px(2), cv2.LINE_AA)
        now = [np.interp(t_s, view.grid, view.projection[:, k]) for k in (0, 1)]
        if np.all(np.isfinite(now)):
            cv2.circle(img, to_px(*now), self.px(8), DARK, -1, cv2.LINE_AA)
            cv2.circle(img, to_px(*now), self.px(6), COM, -1, cv2.LINE_AA)

    def _anchor(self, i: int, anchor: str, stance: str | None, com: np.ndarray) -> np.ndarray:
        xy = self.xy[i : i + 1]
        free = lm.other(stance) if stance else None
        if anchor == "hip":
            return xy[0, lm.HIP[free]] if free else hip_centre(xy)[0]
        if anchor == "trunk":
            return shoulder_centre(xy)[0]
        if anchor in ("foot", "free_foot"):
            side = (stance if anchor == "foot" else free) or "left"
            return self.feet[side][i].mean(axis=0)
        if anchor == "arms":
            # The hand that strayed furthest from its hip is the one worth pointing at.
            dist = {s: np.linalg.norm(xy[0, lm.WRIST[s]] - xy[0, lm.HIP[s]]) for s in lm.SIDES}
            return xy[0, lm.WRIST[max(dist, key=lambda s: np.nan_to_num(dist[s], nan=-1.0))]]
        return com

    def _flags(self, img: np.ndarray, t_s: float, i: int, stance: str | None, com: np.ndarray) -> None:
        scale, pad = 0.75, self.px(8)
        line_h = self._text_size("Ag", scale)[1] + pad
        taken: list[tuple[int, int, int, int]] = []
        for flag in (f for f in self.flags if f.start_s <= t_s <= f.end_s):
            p = _pt(self._anchor(i, flag.anchor, stance, com))
            if p is None:
                continue
            lines = _wrap(_ascii(flag.label), FLAG_LINE_CHARS)
            bw = max(self._text_size(line, scale)[0] for line in lines) + 2 * pad
            bh = len(lines) * line_h + pad
            # Right of the body part, or left when that would leave the picture; a label that would
            # cover an earlier one moves down below it.
            gap = self.px(45)
            x = p[0] + gap if p[0] + gap + bw < self.w else max(0, p[0] - gap - bw)
            y = max(0, p[1] - bh // 2)
            while hits := [b for b in taken if x < b[2] and b[0] < x + bw and y < b[3] and b[1] < y + bh]:
                y = max(b[3] for b in hits) + pad
            y = min(y, self.h - bh)
            taken.append((x, y, x + bw, y + bh))
            edge = (x if x > p[0] else x + bw, y + bh // 2)
            cv2.line(img, p, edge, DARK, self.px(6), cv2.LINE_AA)
            cv2.line(img, p, edge, FLAG, self.px(3), cv2.LINE_AA)
            # A small dot, not a ring: rings hid the base of support and the centre of mass beneath them.
            cv2.circle(img, p, self.px(5), DARK, -1, cv2.LINE_AA)
            cv2.circle(img, p, self.px(3), FLAG, -1, cv2.LINE_AA)
            cv2.rectangle(img, (x, y), (x + bw, y + bh), FLAG, -1)
            cv2.rectangle(img, (x, y), (x + bw, y + bh), DARK, self.px(2))
            for k, line in enumerate(lines):
                org = (x + pad, y + (k + 1) * line_h)
                cv2.putText(img, line, org, FONT, self._font(scale), DARK, self.px(2), cv2.LINE_AA)


def _ascii(text: str) -> str:
    return text.translate(_ASCII).encode("ascii", "replace").decode()


def _wrap(text: str, width: int) -> list[str]:
    """At most two lines of about `width` characters; longer text ends with '...'."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="...")]
    return lines


def _pt(p: np.ndarray) -> tuple[int, int] | None:
    if not np.all(np.isfinite(p)):
        return None
    return int(round(float(p[0]))), int(round(float(p[1])))


def _dashed(img: np.ndarray, a: np.ndarray, b: np.ndarray, colour: tuple[int, ...], width: int, dash: int) -> None:
    pa, pb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    length = float(np.linalg.norm(pb - pa))
    if not math.isfinite(length) or length < 1:
        return
    for s in np.arange(0.0, length, 2 * dash):
        qa, qb = _pt(pa + (pb - pa) * s / length), _pt(pa + (pb - pa) * min(s + dash, length) / length)
        if qa is not None and qb is not None:
            cv2.line(img, qa, qb, colour, width, cv2.LINE_AA)


def _shade(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """Darken a box so white text on it reads over any background."""
    roi = img[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    roi[:] = (roi.astype(np.uint16) * 2 // 5).astype(np.uint8)


def write_annotated(
    analysis: Analysis,
    out_path: Path,
    *,
    flags: Sequence[Flag] | None = None,
    snapshot_at_s: float | None = None,
) -> tuple[Encoded, np.ndarray | None]:
    """encode_annotated to out_path, which appears only when complete (balance.files.atomic_path)."""
    with atomic_path(out_path) as tmp:
        encoded, snapshot = encode_annotated(analysis, tmp, flags=flags, snapshot_at_s=snapshot_at_s)
    return replace(encoded, path=Path(out_path)), snapshot


def encode_annotated(
    analysis: Analysis,
    path: Path,
    *,
    flags: Sequence[Flag] | None = None,
    snapshot_at_s: float | None = None,
) -> tuple[Encoded, np.ndarray | None]:
    """Decode the clip again at its full frame rate, annotate every frame and encode it to `path` (a file the
    caller makes atomic: a temporary name of balance.files).

    flags: what to show (default: every trial's flags from the analysis). Returns what was written and, when
    snapshot_at_s is given, the annotated frame nearest that time (BGR) for the report.
    """
    if flags is None:
        flags = flags_from_doc(document.build_document(analysis))
    path = Path(path)
    fps = analysis.clip.fps_nominal or analysis.track.fps or 30.0
    overlay = Overlay(analysis, flags)
    writer: _Writer | None = None
    codec, note = "", None
    snapshot: np.ndarray | None = None
    best = math.inf
    count = 0
    try:
        with VideoReader(analysis.clip.path, max_fps=None) as reader:
            for frame in reader:
                image = overlay.draw(frame.image, frame.t_s)
                if writer is None:
                    h, w = image.shape[:2]
                    writer, codec, note = _open_writer(path, w, h, fps)
                writer.write(image)
                count += 1
                if snapshot_at_s is not None and abs(frame.t_s - snapshot_at_s) < best:
                    best, snapshot = abs(frame.t_s - snapshot_at_s), image
        if writer is None:
            raise RuntimeError(f"no frame of {analysis.clip.path} decoded")
        writer.close()
    except BaseException:
        if writer is not None:
            with contextlib.suppress(RuntimeError):
                writer.close()
        raise
    return Encoded(path, codec, count, note), snapshot
