"""The annotated video's layers: each annotator draws one thing onto a frame at a Moment of the Scene
(balance.results.scene), in the style of supervision's annotators (`annotator.annotate(image, at)`), so the
video, the live window or a web preview compose the layers they need.

Skeleton, base of support, sway trail, centre of mass with its plumb line, trial timer, legend, foot inset with
the tripod, and the flags, each pinned near its body part while it lasts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from balance.assess.flags import FOOT_HALF_WIDTH
from balance.assess.tripod import TRIPOD
from balance.measure.body import hip_centre, shoulder_centre
from balance.pose import landmarks as lm
from balance.pose.skeleton import BODY_BONES, FOOT_BONES, LEG_BONES
from balance.results.canvas import (
    BASE,
    COM,
    DARK,
    FLAG,
    FONT,
    FOOT_FILL,
    FREE,
    STANCE,
    WHITE,
    Colour,
    ascii_text,
    dashed,
    pt,
    shade,
    wrap,
)
from balance.results.scene import FOOT_OUTLINE, MIN_VISIBILITY, Moment

TRAIL_S = 1.0
FLAG_LINE_CHARS = 24


class Annotator(Protocol):
    def annotate(self, image: np.ndarray, at: Moment) -> None:
        """Draw onto `image` (in place), the frame shown at `at.t_s`."""


@dataclass(frozen=True)
class Flag:
    """One flag as it is shown: code, short words, when (clip seconds) and near which body part."""

    code: str
    label: str
    start_s: float
    end_s: float
    anchor: str  # "hip", "trunk", "foot", "free_foot", "arms" or "com"


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
            colour = STANCE if side == at.stance else (FREE if at.stance is not None else WHITE)
            width = c.px(8) if side == at.stance else thick
            for a, b in LEG_BONES[side] + FOOT_BONES[side]:
                bone(a, b, colour, width)
        for j in (*range(11, 17), *range(23, 33)):
            c.dot(image, xy[j], c.px(3), WHITE)


class BaseOfSupportAnnotator:
    """The stance foot's extent along the axis the camera sees, on the floor line, as the tripod estimate
    models it: the ball's width in a front view, heel to toe tip in a side view."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        view = at.view
        if view is None:
            return
        feet = at.scene.feet[view.stance][at.i]
        heel, toe, y = feet[1], feet[2], view.floor_y
        if not math.isfinite(y) or not np.all(np.isfinite(heel)) or not np.all(np.isfinite(toe)):
            return
        if view.view == "front":
            axis_x = float(np.mean(feet[:, 0]))
            half = FOOT_HALF_WIDTH * view.foot_px
            a, b = np.array([axis_x - half, y]), np.array([axis_x + half, y])
        elif view.view == "side":
            a, b = np.array([heel[0], y]), np.array([heel[0] + view.toe_sign * view.foot_px, y])
        else:
            a, b = np.array([heel[0], y]), np.array([toe[0], y])
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
    """The centre of mass (the quartered disc) and its plumb line down to the floor."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        com, c = at.com, at.scene.canvas
        if not np.all(np.isfinite(com)) or not math.isfinite(at.floor_y):
            return
        foot = np.array([com[0], at.floor_y])
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
        shade(image, 0, 0, max(tw, sw) + 2 * pad, th + sh + 3 * pad)
        c.text(image, title, (pad, pad + th), big, colour)
        c.text(image, sub, (pad, 2 * pad + th + sh), small, WHITE)


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

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        c = at.scene.canvas
        scale, pad = 0.65, c.px(8)
        th = c.text_size("Ag", scale)[1]
        row = th + pad
        top = c.h - len(self.ITEMS) * row - 2 * pad
        shade(image, 0, top, max(c.text_size(text, scale)[0] for text, _ in self.ITEMS) + 3 * pad + th, c.h)
        for k, (text, colour) in enumerate(self.ITEMS):
            y = top + pad + (k + 1) * row - pad // 2
            cv2.rectangle(image, (pad, y - th), (pad + th, y), colour, -1)
            c.text(image, text, (2 * pad + th, y), scale, WHITE)


class FootInsetAnnotator:
    """Top right, during a trial: the stance foot from above, its tripod and the centre of mass over it
    (the tripod estimate, from body geometry)."""

    def annotate(self, image: np.ndarray, at: Moment) -> None:
        view, c, t_s = at.view, at.scene.canvas, at.t_s
        if view is None or view.projection is None or not view.grid[0] <= t_s <= view.grid[-1]:
            return
        pad = c.px(10)
        title = "weight on foot (est.)"
        tw, th = c.text_size(title, 0.55)
        scale = c.px(190)  # pixels per foot length
        lo, hi = np.array([-0.1, -0.42]), np.array([1.12, 0.42])  # fore-aft, medial range shown
        box_w = max(int((hi[1] - lo[1]) * scale), tw) + 2 * pad
        box_h = int((hi[0] - lo[0]) * scale) + th + 3 * pad
        x0, y0 = c.w - box_w, 0
        shade(image, x0, y0, c.w, box_h)
        c.text(image, title, (x0 + pad, y0 + pad + th), 0.55, WHITE)
        # Toes up; a left foot has its big toe on the right, as seen looking down at it.
        mirror = 1.0 if view.stance == "left" else -1.0
        cx, base_y = x0 + box_w / 2, y0 + box_h - pad + lo[0] * scale

        def to_px(fa: float, med: float) -> tuple[int, int]:
            fa, med = float(np.clip(fa, lo[0], hi[0])), float(np.clip(med, lo[1], hi[1]))
            return int(round(cx + mirror * med * scale)), int(round(base_y - fa * scale))

        outline = np.array([to_px(fa, med) for fa, med in FOOT_OUTLINE], dtype=np.int32)
        cv2.fillPoly(image, [outline], FOOT_FILL, cv2.LINE_AA)
        cv2.polylines(image, [outline], True, DARK, c.px(2), cv2.LINE_AA)
        tri = np.array([to_px(*p) for p in TRIPOD.values()], dtype=np.int32)
        cv2.polylines(image, [tri], True, BASE, c.px(2), cv2.LINE_AA)
        for q in tri:
            cv2.circle(image, (int(q[0]), int(q[1])), c.px(5), BASE, -1, cv2.LINE_AA)
        sel = (view.grid > t_s - TRAIL_S) & (view.grid <= t_s)
        trail = [to_px(*p) for p in view.projection[sel] if np.all(np.isfinite(p))]
        if len(trail) > 1:
            cv2.polylines(image, [np.array(trail, dtype=np.int32)], False, COM, c.px(2), cv2.LINE_AA)
        now = [np.interp(t_s, view.grid, view.projection[:, k]) for k in (0, 1)]
        if np.all(np.isfinite(now)):
            cv2.circle(image, to_px(*now), c.px(8), DARK, -1, cv2.LINE_AA)
            cv2.circle(image, to_px(*now), c.px(6), COM, -1, cv2.LINE_AA)


class FlagAnnotator:
    """Each flag while it lasts, as a label beside its body part with a leader line to it."""

    def __init__(self, flags: Sequence[Flag]) -> None:
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


def default_annotators(flags: Sequence[Flag] = ()) -> list[Annotator]:
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
