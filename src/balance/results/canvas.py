"""Drawing on a video frame: colours, sizes that follow the picture, outlined text, lines and dots that read on
any background. The annotators (balance.results.annotators) draw with these.
"""

from __future__ import annotations

import functools
import math
import textwrap

import cv2
import numpy as np

from balance.pose.skeleton import COLOURS, bgr

Colour = tuple[int, ...]
# Colours are BGR, from the overlays' one spec (balance.pose.skeleton.COLOURS). Every mark is drawn over a
# dark outline so it reads on light and dark backgrounds.
WHITE = bgr(COLOURS["body"])
DARK = bgr(COLOURS["outline"])
STANCE = bgr(COLOURS["stance"])
COM = bgr(COLOURS["com"])
BASE = bgr(COLOURS["base"])
FLAG = bgr(COLOURS["flag"])
FOOT_FILL = (200, 215, 225)
FONT = cv2.FONT_HERSHEY_DUPLEX
MIN_FONT_SCALE = 0.4
# Hershey fonts are ASCII only.
_ASCII = str.maketrans({"°": " deg", "–": "-", "—": "-", "≥": ">=", "≤": "<=", "’": "'", "±": "+-", "×": "x"})


class Canvas:
    """Sizes for a picture of w x h pixels: 1.0 for 720 px high, capped by the width so a portrait clip's timer
    still fits across it; text then stays about 3 % of the height, readable when a phone shrinks it."""

    def __init__(self, w: int, h: int) -> None:
        self.w, self.h = w, h
        self.s = min(h / 720, w / 540)

    def px(self, v: float) -> int:
        return max(1, round(v * self.s))

    def font(self, scale: float) -> float:
        # Hershey text below about 0.4 turns to mush, whatever the picture's size.
        return max(scale * self.s, MIN_FONT_SCALE)

    def text(self, img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: Colour) -> None:
        """Text with a dark outline. The outline is the glyphs' mask grown by a few pixels, not a second,
        thicker putText: Hershey glyphs advance by their stroke width, so a thicker copy drifts sideways."""
        dx, dy, keep, paint = _stamp(ascii_text(text), self.font(scale), self.px(2), self.px(2), tuple(colour))
        x0, y0 = org[0] + dx, org[1] + dy
        # Only the part of the box inside the picture is painted.
        ix0, iy0 = max(0, x0), max(0, y0)
        ix1, iy1 = min(img.shape[1], x0 + keep.shape[1]), min(img.shape[0], y0 + keep.shape[0])
        if ix1 <= ix0 or iy1 <= iy0:
            return
        sub = (slice(iy0 - y0, iy1 - y0), slice(ix0 - x0, ix1 - x0))
        roi = img[iy0:iy1, ix0:ix1].astype(np.float32)
        img[iy0:iy1, ix0:ix1] = (roi * keep[sub] + paint[sub]).astype(np.uint8)

    def text_size(self, text: str, scale: float) -> tuple[int, int]:
        (tw, th), _ = cv2.getTextSize(ascii_text(text), FONT, self.font(scale), self.px(2))
        grow = self.px(2)
        return tw + 2 * grow, th + grow

    def line(self, img: np.ndarray, a: np.ndarray, b: np.ndarray, colour: Colour, width: int) -> None:
        pa, pb = pt(a), pt(b)
        if pa is None or pb is None:
            return
        cv2.line(img, pa, pb, DARK, width + self.px(3), cv2.LINE_AA)
        cv2.line(img, pa, pb, colour, width, cv2.LINE_AA)

    def dot(self, img: np.ndarray, p: np.ndarray, radius: int, colour: Colour) -> None:
        q = pt(p)
        if q is not None:
            cv2.circle(img, q, radius + self.px(2), DARK, -1, cv2.LINE_AA)
            cv2.circle(img, q, radius, colour, -1, cv2.LINE_AA)


@functools.lru_cache(maxsize=1024)
def _stamp(text: str, size: float, stroke: int, grow: int, colour: Colour) -> tuple[int, int, np.ndarray, np.ndarray]:
    """A text's outlined glyphs as one blend, made once per text, size and colour (the video draws the same words
    on every frame, and the timer's each for a tenth of a second): the box's offset from the text's origin, and
    per pixel the share of the picture kept and the paint added (the outline in DARK, then the glyphs)."""
    (tw, th), base = cv2.getTextSize(text, FONT, size, stroke)
    mask = np.zeros((th + base + 2 * grow + 2, tw + 2 * grow + 2), np.uint8)
    cv2.putText(mask, text, (grow + 1, th + grow + 1), FONT, size, 255, stroke, cv2.LINE_AA)
    outline = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    a_out = outline[..., None].astype(np.float32) / 255.0
    a_in = mask[..., None].astype(np.float32) / 255.0
    keep = (1 - a_out) * (1 - a_in)
    paint = np.array(DARK, np.float32) * a_out * (1 - a_in) + np.array(colour, np.float32) * a_in
    for a in (keep, paint):
        a.setflags(write=False)
    return -grow - 1, -th - grow - 1, keep, paint


def ascii_text(text: str) -> str:
    return text.translate(_ASCII).encode("ascii", "replace").decode()


def wrap(text: str, width: int) -> list[str]:
    """At most two lines of about `width` characters; longer text ends with '...'."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="...")]
    return lines


def pt(p: np.ndarray) -> tuple[int, int] | None:
    # Plain floats, not numpy reductions: called about 150 times a frame (np.all cost 1.3 ms a frame, issue 20).
    x, y = float(p[0]), float(p[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return round(x), round(y)


def dashed(img: np.ndarray, a: np.ndarray, b: np.ndarray, colour: Colour, width: int, dash: int) -> None:
    pa, pb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    length = float(np.linalg.norm(pb - pa))
    if not math.isfinite(length) or length < 1:
        return
    starts = np.arange(0.0, length, 2 * dash)
    ends = np.minimum(starts + dash, length)
    # Every dash in one polylines call, not one line call each (2.3 -> 0.3 ms a frame, issue 20).
    dashes = pa + (pb - pa) * np.stack([starts, ends], axis=1)[:, :, None] / length
    cv2.polylines(img, list(np.rint(dashes).astype(np.int32)), False, colour, width, cv2.LINE_AA)


def shade(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """Darken a box so white text on it reads over any background."""
    roi = img[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    roi[:] = (roi.astype(np.uint16) * 2 // 5).astype(np.uint8)
