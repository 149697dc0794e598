"""The annotated video's layers: each annotator draws one thing onto a frame at a Moment of the Scene
(balance.results.scene), in the style of supervision's annotators (`annotator.annotate(image, at)`), so the
video, the live window or a web preview compose the layers they need.

Skeleton, base of support, sway trail, centre of mass with its plumb line, trial timer, legend, foot inset with
the tripod, and the flags, each pinned near its body part while it lasts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from balance.assess.flags import FOOT_HALF_WIDTH
from balance.assess.tripod import TRIPOD, middle_band
from balance.measure.body import hip_centre, shoulder_centre
from balance.pose import landmarks as lm
from balance.pose.skeleton import BODY_BONES, COLOURS, bgr, limb_bones, limb_role
from balance.results.canvas import (
    BASE,
    COM,
    DARK,
    FLAG,
    FONT,
    FOOT_FILL,
    STANCE,
    WHITE,
    Canvas,
    Colour,
    ascii_text,
    dashed,
    pt,
    shade,
    wrap,
)
from balance.results.scene import (
    FOOT_OUTLINE,
    MIN_VISIBILITY,
    ROLL_BAR_FORE_AFT,
    SHOWN_ROLL_DEG,
    Moment,
    TrialView,
)

TRAIL_S = 1.0
FLAG_LINE_CHARS = 24


class Annotator(Protocol):
    def annotate(self, image: np.ndarray, at: Moment) -> None:
        """Draw onto `image` (in place), the frame shown at `at.t_s`."""


@dataclass(frozen=True)
class ShownFlag:
    """One flag as it is shown: code, short words, when (clip seconds) and near which body part."""

    code: str
    label: str
    start_s: float
    end_s: float
    anchor: str  # "hip", "trunk", "foot", "free_foot", "arms" or "com"


class StaticLayer:
    """Marks that stay the same from frame to frame (the legend, the foot inset of a trial), drawn once and then
    laid on each frame as out = in x keep + paint per pixel, keep and paint recovered by drawing the marks on a
    black and on a white picture: shading, opaque marks and anti-aliased edges are all of that form. Measured:
    the legend and the foot inset cost a fraction of drawing them on every frame (benchmarks/README.md, Speed)."""

    def __init__(self, draw: Callable[[np.ndarray], None], w: int, h: int) -> None:
        black = np.zeros((h, w, 3), np.uint8)
        white = np.full_like(black, 255)
        draw(black)
        draw(white)
        ys, xs = np.nonzero(np.any((black != 0) | (white != 255), axis=2))
        self.box = (ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) if len(ys) else None
        if self.box is not None:
            y0, y1, x0, x1 = self.box
            low, high = black[y0:y1, x0:x1].astype(np.float32), white[y0:y1, x0:x1].astype(np.float32)
            self.keep = (high - low) / 255.0
            self.paint = low + 0.5  # rounds to the nearest level when cast back

    def lay(self, image: np.ndarray) -> None:
        if self.box is None:
            return
        y0, y1, x0, x1 = self.box
        roi = image[y0:y1, x0:x1]
        roi[:] = np.clip(roi * self.keep + self.paint, 0, 255).astype(np.uint8)


class SkeletonAnnotator:
    """The subject's skeleton: the stance leg thick and yellow, the free leg blue; bones between landmarks the
    pose model only guessed are thin."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        c = at.scene.canvas
        xy, vis = at.scene.xy[at.i], at.scene.vis[at.i]
        if not np.isfinite(xy[0, 0]):
            return
        thick, thin = c.px(5), c.px(2)

        def bone(a: int, b: int, colour: Colour, width: int) -> None:
            seen = min(vis[a], vis[b]) >= MIN_VISIBILITY
            c.line(image, xy[a], xy[b], colour, width if seen else thin)

        for a, b in BODY_BONES:
            bone(a, b, WHITE, thick)
        neck = 0.5 * (xy[lm.SHOULDER["left"]] + xy[lm.SHOULDER["right"]])
        c.line(image, neck, xy[lm.NOSE], WHITE, thick)
        for side in lm.SIDES:
            role = limb_role(side, at.stance)
            width = c.px(8) if role == "stance" else thick
            for a, b in limb_bones(side):
                bone(a, b, bgr(COLOURS[role]), width)
        for j in (*range(11, 17), *range(23, 33)):
            c.dot(image, xy[j], c.px(3), WHITE)


class BaseOfSupportAnnotator:
    """The stance foot's extent along the axis the camera sees, on the floor line, as the tripod estimate
    models it: the ball's width in a front view, heel to toe tip in a side view; level with the true floor
    (square to the camera-roll-corrected vertical)."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        view = at.view
        if view is None:
            return
        feet = at.scene.feet[view.stance][at.i]
        heel, toe, y = feet[1], feet[2], view.floor_y
        if not math.isfinite(y) or not np.all(np.isfinite(heel)) or not np.all(np.isfinite(toe)):
            return
        across = at.scene.across
        if view.view == "front":
            centre = np.array([float(np.mean(feet[:, 0])), y])
            half = FOOT_HALF_WIDTH * view.foot_px
            a, b = centre - half * across, centre + half * across
        else:
            a = np.array([heel[0], y])
            length = view.toe_sign * view.foot_px if view.view == "side" else float(np.dot(toe - heel, across))
            b = a + length * across
        at.scene.canvas.line(image, a, b, BASE, at.scene.canvas.px(8))


class SwayTrailAnnotator:
    """Where the centre of mass was over the last TRAIL_S seconds, older positions fading."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        sc = at.scene
        sel = (sc.t > at.t_s - TRAIL_S) & (sc.t <= at.t_s)
        pts = [q for q in (pt(p) for p in (*sc.com[sel], at.com)) if q is not None]
        for k in range(1, len(pts)):
            # Older positions fade towards a pale tint of the colour.
            alpha = k / len(pts)
            colour = tuple(int(v * alpha + 230 * (1 - alpha)) for v in COM)
            cv2.line(image, pts[k - 1], pts[k], colour, sc.canvas.px(4), cv2.LINE_AA)


class CentreOfMassAnnotator:
    """The centre of mass (the quartered disc) and its plumb line down to the floor, along the true vertical
    (the camera's roll undone, as every measurement is)."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        com, c = at.com, at.scene.canvas
        foot = at.plumb_foot()
        if not np.all(np.isfinite(com)) or not np.all(np.isfinite(foot)):
            return
        dashed(image, com, foot, DARK, c.px(5), c.px(14))
        dashed(image, com, foot, COM, c.px(2), c.px(14))
        r = c.px(11)
        c.dot(image, com, r, COM)
        q = pt(com)
        if q is not None:
            # The quartered disc is the usual centre-of-mass symbol.
            cv2.ellipse(image, q, (r, r), 0, 0, 90, WHITE, -1, cv2.LINE_AA)
            cv2.ellipse(image, q, (r, r), 0, 180, 270, WHITE, -1, cv2.LINE_AA)
        c.dot(image, foot, c.px(6), COM)


class TimerAnnotator:
    """Top left: the stance leg and the time on it in a trial, else what the person is doing."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        c, view = at.scene.canvas, at.view
        pad = c.px(12)
        if view is not None:
            title = f"{view.stance} leg {max(0.0, at.t_s - view.lift_off_s):.1f} s"
            colour: Colour = STANCE
            sub = f"trial {view.index + 1} of {len(at.scene.trials)}"
        else:
            title, colour, sub = _between_trials(at)
        big, small = 1.2, 0.75
        (tw, th), (sw, sh) = c.text_size(title, big), c.text_size(sub, small)
        note = roll_note(at)
        nw, nh = c.text_size(note, 0.55) if note else (0, -pad)
        shade(image, 0, 0, max(tw, sw, nw) + 2 * pad, th + sh + nh + 4 * pad)
        c.text(image, title, (pad, pad + th), big, colour)
        c.text(image, sub, (pad, 2 * pad + th + sh), small, WHITE)
        if note:
            c.text(image, note, (pad, 3 * pad + th + sh + nh), 0.55, WHITE)


# What the picture says of the camera's motion (pose/steady.py): only where it was taken out or hides something.
MOTION_NOTES = {
    "corrected": "camera moved: corrected",
    "too_much": "camera moved too much: foot not judged",
    "moved": "camera moved: sway not judged",
}


def roll_note(at: Moment) -> str | None:
    """'camera tilted N deg: corrected' when the roll undone before measuring is worth saying, and 'camera
    moved: corrected' when the camera's own motion was taken out of the landmarks."""
    roll = at.scene.vertical.roll_deg
    camera = at.scene.camera
    notes = [f"camera tilted {abs(roll):.0f} deg: corrected"] if abs(roll) >= SHOWN_ROLL_DEG else []
    if camera is not None and camera.verdict in MOTION_NOTES:
        notes.append(MOTION_NOTES[camera.verdict])
    return "; ".join(notes) or None


def _between_trials(at: Moment) -> tuple[str, Colour, str]:
    """Title, its colour and a second line for a moment outside every trial, from the stance timeline."""
    sc, i = at.scene, at.i
    if not np.isfinite(sc.xy[i, 0, 0]):
        return "no person in view", WHITE, "nothing measured"
    state = str(sc.state[i]) if i < len(sc.state) else "unknown"
    if state == "both":
        return "both feet down", WHITE, "no single-leg trial now"
    if state in lm.SIDES:
        return f"{state} leg", WHITE, "too short to score"
    return "feet not clear", WHITE, "stance unknown"


class LegendAnnotator:
    """Bottom left: what the colours mean."""

    ITEMS = (("stance leg", STANCE), ("centre of mass, 1 s trail", COM), ("base of support", BASE))

    def __init__(self) -> None:
        self._layers: dict[tuple[int, int], StaticLayer] = {}

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        c = at.scene.canvas
        if (layer := self._layers.get((c.w, c.h))) is None:
            layer = self._layers[c.w, c.h] = StaticLayer(lambda img: self.draw(img, c), c.w, c.h)
        layer.lay(image)

    def draw(self, image: np.ndarray, c: Canvas) -> None:
        scale, pad = 0.65, c.px(8)
        th = c.text_size("Ag", scale)[1]
        row = th + pad
        top = c.h - len(self.ITEMS) * row - 2 * pad
        shade(image, 0, top, max(c.text_size(text, scale)[0] for text, _ in self.ITEMS) + 3 * pad + th, c.h)
        for k, (text, colour) in enumerate(self.ITEMS):
            y = top + pad + (k + 1) * row - pad // 2
            cv2.rectangle(image, (pad, y - th), (pad + th, y), colour, -1)
            c.text(image, text, (2 * pad + th, y), scale, WHITE)


@dataclass(frozen=True)
class InsetLayout:
    """Where the foot inset draws: its box, pixels per foot length, the foot's frame (fore-aft, medial; foot
    lengths) mapped to pixels, the words under the foot (text, scale) and the rolling bar's label."""

    x0: int
    box_w: int
    box_h: int
    scale: float  # pixels per foot length
    cx: float  # the foot's centre line (medial 0), pixels
    base_y: float  # the heel (fore-aft 0), pixels
    mirror: float  # +1: the big-toe side is to the right (a left foot seen from above)
    lo: tuple[float, float]  # fore-aft, medial range shown
    hi: tuple[float, float]
    lines: tuple[tuple[str, float], ...]
    roll_label: str | None

    def x(self, medial: float) -> float:
        return self.cx + self.mirror * float(np.clip(medial, self.lo[1], self.hi[1])) * self.scale

    def y(self, fore_aft: float) -> float:
        return self.base_y - float(np.clip(fore_aft, self.lo[0], self.hi[0])) * self.scale

    def to_px(self, fore_aft: float, medial: float) -> tuple[int, int]:
        return int(round(self.x(medial))), int(round(self.y(fore_aft)))

    def band_px(self, interval: tuple[float, float]) -> tuple[int, int]:
        """Left and right pixel columns of a side-to-side interval."""
        a, b = sorted((int(round(self.x(interval[0]))), int(round(self.x(interval[1])))))
        return a, b


INSET_TITLE = "weight on foot (est.)"
TITLE_TEXT, ANSWER_TEXT, SMALL_TEXT = 0.5, 0.5, 0.4
# Small enough that the inset stays in the top 40 % of a square 576-pixel clip, clear of the body.
INSET_SCALE = 150  # pixels per foot length at 720 px high


def _wrap_px(c: Canvas, text: str, scale: float, width: int) -> list[str]:
    """Words on as many lines as it takes to keep each within `width` pixels."""
    lines: list[str] = []
    for word in text.split():
        if lines and c.text_size(f"{lines[-1]} {word}", scale)[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


class FootInsetAnnotator:
    """Top right, during a trial: the stance foot from above with its tripod, and the tripod's answer as the
    document states it: the 95 % interval of the mean side-to-side position as a band (never a point: one
    camera cannot place the mean more finely), the answer in words with a short reason, and, in a front view,
    how far the weight rolls either side of its mean (the centre of pressure's range, which the view can
    tell) with the centre of mass's offset from its mean now."""

    def layout(self, at: Moment) -> InsetLayout | None:
        view, c = at.view, at.scene.canvas
        if view is None or view.projection is None or not view.grid[0] <= at.t_s <= view.grid[-1]:
            return None
        said = view.answer
        pad, scale = c.px(8), c.px(INSET_SCALE)
        # The band may reach past the foot; the map widens to show it (up to 0.9 foot lengths either side).
        reach = min(0.9, max(0.3, abs(said.ci95[0]) + 0.05, abs(said.ci95[1]) + 0.05))
        lo, hi = (-0.06, -reach), (1.08, reach)
        tw, th = c.text_size(INSET_TITLE, TITLE_TEXT)
        width = max(int((hi[1] - lo[1]) * scale), tw)
        lines = [(said.headline, ANSWER_TEXT)]
        lines += [(line, SMALL_TEXT) for line in _wrap_px(c, said.reason, SMALL_TEXT, width)]
        box_w = max(width, *(c.text_size(text, k)[0] for text, k in lines)) + 2 * pad
        text_h = sum(c.text_size(text, k)[1] + pad for text, k in lines)
        box_h = int((hi[0] - lo[0]) * scale) + th + text_h + 3 * pad
        x0 = c.w - box_w
        base_y = th + 2 * pad + hi[0] * scale
        mirror = 1.0 if view.stance == "left" else -1.0
        roll = None if said.cop_roll_95 is None else f"rolls +-{said.cop_roll_95:.2f}"
        return InsetLayout(x0, box_w, box_h, scale, x0 + box_w / 2, base_y, mirror, lo, hi, tuple(lines), roll)

    def __init__(self) -> None:
        # Keyed by the trial's view, kept alive beside its layer so that its id is not reused.
        self._layers: dict[int, tuple[TrialView, StaticLayer]] = {}

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        lay = self.layout(at)
        if lay is None or at.view is None:
            return
        c = at.scene.canvas
        # Everything but the centre of mass's dot on the rolling bar is the same all through a trial.
        if (cached := self._layers.get(id(at.view))) is None:
            cached = self._layers[id(at.view)] = (at.view, StaticLayer(lambda img: self.draw(img, at, lay), c.w, c.h))
        cached[1].lay(image)
        if lay.roll_label is not None:
            self._now(image, at, lay)

    def draw(self, image: np.ndarray, at: Moment, lay: InsetLayout) -> None:
        """The inset's marks that last the whole trial."""
        assert at.view is not None
        c, said = at.scene.canvas, at.view.answer
        pad = c.px(8)
        shade(image, lay.x0, 0, c.w, lay.box_h)
        th = c.text_size(INSET_TITLE, TITLE_TEXT)[1]
        c.text(image, INSET_TITLE, (lay.x0 + pad, pad + th), TITLE_TEXT, WHITE)
        outline = np.array([lay.to_px(fa, med) for fa, med in FOOT_OUTLINE], dtype=np.int32)
        cv2.fillPoly(image, [outline], FOOT_FILL, cv2.LINE_AA)
        cv2.polylines(image, [outline], True, DARK, c.px(2), cv2.LINE_AA)
        # The 95 % interval of the mean side-to-side position, heel to toe: see-through, edges drawn, labelled.
        xa, xb = lay.band_px(said.ci95)
        ya, yb = int(round(lay.y(1.0))), int(round(lay.y(0.0)))
        roi = image[ya:yb, xa : xb + 1]
        roi[:] = (0.7 * roi + 0.3 * np.array(COM, np.float32)).astype(np.uint8)
        for x in (xa, xb):
            cv2.line(image, (x, ya), (x, yb), COM, c.px(2), cv2.LINE_AA)
        c.text(image, "95 %", (xa + c.px(4), yb), SMALL_TEXT, WHITE)
        # The middle band that "centred" means, dotted as in the tripod map.
        for edge in middle_band():
            x_edge = lay.x(edge)
            dashed(image, np.array([x_edge, ya]), np.array([x_edge, yb]), DARK, c.px(1), c.px(4))
        tri = np.array([lay.to_px(*p) for p in TRIPOD.values()], dtype=np.int32)
        cv2.polylines(image, [tri], True, BASE, c.px(2), cv2.LINE_AA)
        for q in tri:
            cv2.circle(image, (int(q[0]), int(q[1])), c.px(5), BASE, -1, cv2.LINE_AA)
        if lay.roll_label is not None:
            self._rolling(image, at, lay)
        y = int(round(lay.y(lay.lo[0]))) + pad
        for k, (text, scale) in enumerate(lay.lines):
            y += c.text_size(text, scale)[1]
            c.text(image, text, (lay.x0 + pad, y), scale, STANCE if k == 0 else WHITE)
            y += pad

    @staticmethod
    def _rolling(image: np.ndarray, at: Moment, lay: InsetLayout) -> None:
        """The centre of pressure's range either side of the mean, as a bar with end caps and its size in
        words (the centre of mass's offset from its own mean now goes on it as a dot: _now)."""
        view, c = at.view, at.scene.canvas
        assert view is not None and view.projection is not None and view.answer.cop_roll_95 is not None
        mean, roll = float(np.mean(view.answer.ci95)), view.answer.cop_roll_95
        y = int(round(lay.y(ROLL_BAR_FORE_AFT)))
        a, b = int(round(lay.x(mean - roll))), int(round(lay.x(mean + roll)))
        cap = c.px(6)
        for width, colour in ((c.px(6), DARK), (c.px(3), WHITE)):
            cv2.line(image, (a, y), (b, y), colour, width, cv2.LINE_AA)
            for x in (a, b):
                cv2.line(image, (x, y - cap), (x, y + cap), colour, width, cv2.LINE_AA)
        label = str(lay.roll_label)
        lw, lh = c.text_size(label, SMALL_TEXT)
        c.text(image, label, (int(lay.cx - lw / 2), y + cap + lh + c.px(2)), SMALL_TEXT, WHITE)

    @staticmethod
    def _now(image: np.ndarray, at: Moment, lay: InsetLayout) -> None:
        """The centre of mass's offset from its own mean now, as a dot on the rolling bar."""
        view, c = at.view, at.scene.canvas
        assert view is not None and view.projection is not None
        medial = view.projection[:, 1]
        now = float(np.interp(at.t_s, view.grid, medial)) - float(np.nanmean(medial))
        if math.isfinite(now):
            mean = float(np.mean(view.answer.ci95))
            c.dot(image, np.array([lay.x(mean + now), round(lay.y(ROLL_BAR_FORE_AFT))]), c.px(4), COM)


class FlagAnnotator:
    """Each flag while it lasts, as a label beside its body part with a leader line to it."""

    def __init__(self, flags: Sequence[ShownFlag]) -> None:
        self.flags = tuple(flags)

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        c = at.scene.canvas
        scale, pad = 0.75, c.px(8)
        line_h = c.text_size("Ag", scale)[1] + pad
        taken: list[tuple[int, int, int, int]] = []
        for flag in (f for f in self.flags if f.start_s <= at.t_s <= f.end_s):
            p = pt(_anchor(at, flag.anchor))
            if p is None:
                continue
            lines = wrap(ascii_text(flag.label), FLAG_LINE_CHARS)
            bw = max(c.text_size(line, scale)[0] for line in lines) + 2 * pad
            bh = len(lines) * line_h + pad
            # Right of the body part, or left when that would leave the picture; a label that would
            # cover an earlier one moves down below it.
            gap = c.px(45)
            x = p[0] + gap if p[0] + gap + bw < c.w else max(0, p[0] - gap - bw)
            y = max(0, p[1] - bh // 2)
            while hits := [b for b in taken if x < b[2] and b[0] < x + bw and y < b[3] and b[1] < y + bh]:
                y = max(b[3] for b in hits) + pad
            y = min(y, c.h - bh)
            taken.append((x, y, x + bw, y + bh))
            edge = (x if x > p[0] else x + bw, y + bh // 2)
            cv2.line(image, p, edge, DARK, c.px(6), cv2.LINE_AA)
            cv2.line(image, p, edge, FLAG, c.px(3), cv2.LINE_AA)
            # A small dot, not a ring: rings hid the base of support and the centre of mass beneath them.
            cv2.circle(image, p, c.px(5), DARK, -1, cv2.LINE_AA)
            cv2.circle(image, p, c.px(3), FLAG, -1, cv2.LINE_AA)
            cv2.rectangle(image, (x, y), (x + bw, y + bh), FLAG, -1)
            cv2.rectangle(image, (x, y), (x + bw, y + bh), DARK, c.px(2))
            for k, line in enumerate(lines):
                org = (x + pad, y + (k + 1) * line_h)
                cv2.putText(image, line, org, FONT, c.font(scale), DARK, c.px(2), cv2.LINE_AA)


def _anchor(at: Moment, anchor: str) -> np.ndarray:
    """Where on the body a flag points: the free hip, the trunk, a foot, the hand that strayed, or the mass."""
    sc, stance = at.scene, at.stance
    xy = sc.xy[at.i : at.i + 1]
    free = lm.other(stance) if stance else None
    if anchor == "hip":
        return xy[0, lm.HIP[free]] if free else hip_centre(xy)[0]
    if anchor == "trunk":
        return shoulder_centre(xy)[0]
    if anchor in ("foot", "free_foot"):
        side = (stance if anchor == "foot" else free) or "left"
        return sc.feet[side][at.i].mean(axis=0)
    if anchor == "arms":
        # The hand that strayed furthest from its hip is the one worth pointing at.
        dist = {s: np.linalg.norm(xy[0, lm.WRIST[s]] - xy[0, lm.HIP[s]]) for s in lm.SIDES}
        return xy[0, lm.WRIST[max(dist, key=lambda s: np.nan_to_num(dist[s], nan=-1.0))]]
    return at.com


def default_annotators(flags: Sequence[ShownFlag] = ()) -> list[Annotator]:
    """Every layer of annotated.mp4, bottom to top."""
    return [
        SkeletonAnnotator(),
        BaseOfSupportAnnotator(),
        SwayTrailAnnotator(),
        CentreOfMassAnnotator(),
        TimerAnnotator(),
        LegendAnnotator(),
        FootInsetAnnotator(),
        FlagAnnotator(flags),
    ]
