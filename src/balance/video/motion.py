"""The camera's own motion, frame by frame, from the scene around the person (a phone held in the hand pans,
zooms and turns; the person's landmarks move with the picture although the person stands still).

Corners are found on a keyframe outside the person's box, followed into each later frame with pyramidal
Lucas-Kanade optical flow (Bouguet 2000, OpenCV's calcOpticalFlowPyrLK), and a similarity (shift, zoom, turn)
is fitted to them robustly with RANSAC (Fischler & Bolles 1981, OpenCV's estimateAffinePartial2D). Following
the keyframe rather than the previous frame keeps a still camera at exactly the keyframe's transform: the
errors of frame-to-frame steps would add up into a drift. A new keyframe is taken when too few corners
survive, and chained to the old one.

Each frame gets one row (see ROW): the similarity that maps its picture coordinates into the coordinates of
the first frame of its chain, how many corners agreed, and whether the fit could be trusted. Pure arrays out;
balance.pose.steady turns the rows into the corrected landmarks and the summary the user reads.
"""

from __future__ import annotations

import cv2
import numpy as np

# Row layout: a, b, tx, ty of [[a, -b, tx], [b, a, ty]] (frame -> chain origin, full-size pixels), corners
# that agreed (RANSAC inliers), their median residual (full-size px), and status (TRACKED or LOST).
ROW = 7
TRACKED, LOST = 1.0, 0.0

# The scene is followed at about this width: corners and flow need texture, not resolution. Bilinear scaling
# reads a few pixels per output pixel (0.8 ms a 1080p frame, against 4.5 ms for area averaging).
WORK_WIDTH = 480
# Corners per keyframe, their least quality (share of the strongest corner's) and spacing (work px): 150 leave
# RANSAC a wide margin over MIN_INLIERS and halve the flow's cost against 300.
MAX_CORNERS, CORNER_QUALITY, CORNER_SPACING = 150, 0.001, 8
# A fit is trusted with at least this many agreeing corners, and this share of those followed: fewer, and the
# picture is too plain (a white studio wall) or too changed (a cut) to tell the camera's motion.
MIN_INLIERS, MIN_INLIER_SHARE = 10, 0.5
# The scene stands still when this share of the followed corners (and at least MIN_INLIERS) moved under
# STILL_PX work px since the keyframe: a camera that moves leaves none where they were, bar an overlay.
STILL_PX, STILL_SHARE = 0.3, 0.3
# A new keyframe once fewer than this share of its corners are still followed.
REKEY_SHARE = 0.6
# RANSAC's reprojection threshold (work px): corners further off the fitted motion are the person or noise.
RANSAC_PX = 1.5
# The person's landmark box is grown by this share of its size before corners inside it are dropped
# (clothes and hair reach beyond the landmarks; the shadow on the floor moves with them).
PERSON_MARGIN = 0.25
# Lucas-Kanade: a 15 px window over 4 pyramid levels follows moves of up to about 60 work px between frames.
LK_WINDOW, LK_LEVELS = (15, 15), 3
LK_STOP = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)


def as_matrices(rows: np.ndarray) -> np.ndarray:
    """(N, 3, 3) similarity matrices of (N, ROW) rows."""
    rows = np.asarray(rows, dtype=float).reshape(-1, ROW)
    m = np.zeros((len(rows), 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = rows[:, 0], -rows[:, 1], rows[:, 2]
    m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = rows[:, 1], rows[:, 0], rows[:, 3]
    m[:, 2, 2] = 1.0
    return m


def _as_row(m: np.ndarray, inliers: int, residual: float, status: float) -> np.ndarray:
    return np.array([m[0, 0], m[1, 0], m[0, 2], m[1, 2], inliers, residual, status])


class SceneTracker:
    """Follows the scene frame by frame; `step` gives each frame's ROW."""

    def __init__(self) -> None:
        self._scale = 1.0
        self._key_gray: np.ndarray | None = None
        self._key_pts: np.ndarray | None = None  # corners on the keyframe, work px
        self._last_pts: np.ndarray | None = None  # where they were last seen (the flow's starting guess)
        self._key_to_origin = np.eye(3)  # keyframe coordinates -> chain origin, full-size px
        # The last frame whose fit was trusted: its picture, the person's boxes in it, its transform.
        self._good: tuple[np.ndarray, list[tuple[float, ...]], np.ndarray] | None = None
        self._good_corners: tuple[np.ndarray | None] | None = None  # its corners, once looked for
        self._followed = 0

    def step(self, bgr: np.ndarray, person: list[tuple[float, float, float, float]]) -> np.ndarray:
        """The ROW of this frame; `person` are the boxes (x0, y0, x1, y1, full-size px) to keep corners out of."""
        h, w = bgr.shape[:2]
        self._scale = min(1.0, WORK_WIDTH / w)
        small = cv2.resize(bgr, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_LINEAR)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        boxes = [tuple(v * self._scale for v in box) for box in person]
        if self._good is None:  # the chain's origin
            return self._rekey(gray, boxes, np.eye(3), 0, 0.0)
        fit = None
        if self._key_gray is not None and self._key_pts is not None:
            fit = self._fit(self._key_gray, self._key_pts, self._last_pts, gray, boxes)
        if fit is not None:
            to_key, n, residual = fit
            to_origin = self._key_to_origin @ to_key
            if self._followed < REKEY_SHARE * len(self._key_pts):  # type: ignore[arg-type]
                return self._rekey(gray, boxes, to_origin, n, residual)
            self._good, self._good_corners = (gray, boxes, to_origin), None
            return _as_row(to_origin, n, residual, TRACKED)
        # The keyframe's corners are lost (covered, turned away, a plain keyframe): follow fresh corners of the
        # last trusted frame instead and, if they fit, take this frame as the new keyframe.
        good_gray, good_boxes, good_to_origin = self._good
        if self._good_corners is None:  # found once per trusted frame: a plain one would be searched every frame
            self._good_corners = (_corners(good_gray, good_boxes),)
        corners = self._good_corners[0]
        step = self._fit(good_gray, corners, None, gray, boxes) if corners is not None else None
        if step is not None:
            to_good, n, residual = step
            return self._rekey(gray, boxes, good_to_origin @ to_good, n, residual)
        # No trusted fit: the frame is marked LOST (balance.pose.steady interpolates it from its neighbours);
        # the chain goes on from the last trusted frame, so a lost frame never shifts the frames after it.
        return _as_row(good_to_origin, 0, 0.0, LOST)

    def _fit(
        self, ref: np.ndarray, ref_pts: np.ndarray, guess: np.ndarray | None, gray: np.ndarray, boxes: list
    ) -> tuple[np.ndarray, int, float] | None:
        """(this frame -> ref as a full-size 3x3 matrix, agreeing corners, their median residual in full-size px),
        or None when the fit cannot be trusted. Sets `_followed` and `_last_pts` on success."""
        start = (guess if guess is not None else ref_pts).copy()
        pts, ok, _ = cv2.calcOpticalFlowPyrLK(
            ref,
            gray,
            ref_pts,
            start,
            winSize=LK_WINDOW,
            maxLevel=LK_LEVELS,
            criteria=LK_STOP,
            flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
        )
        ok = ok.ravel().astype(bool) & _outside(pts.reshape(-1, 2), boxes)
        followed = int(ok.sum())
        if followed < MIN_INLIERS:
            return None
        # A still camera first: where enough corners have not moved at all, the scene stands still and whatever
        # moves is someone else walking through it (RANSAC alone follows the larger group, which on a plain wall
        # can be the passer-by's clothes).
        unmoved = np.linalg.norm(pts[ok] - ref_pts[ok], axis=2).ravel() <= STILL_PX
        if unmoved.sum() >= max(MIN_INLIERS, STILL_SHARE * followed):
            self._followed, self._last_pts = followed, pts
            return np.eye(3), int(unmoved.sum()), 0.0
        fit, inl = cv2.estimateAffinePartial2D(pts[ok], ref_pts[ok], method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX)
        if fit is None:
            return None
        inl = inl.ravel().astype(bool)
        n = int(inl.sum())
        if n < MIN_INLIERS or n < MIN_INLIER_SHARE * followed:
            return None
        src, dst = pts[ok][inl].reshape(-1, 2), ref_pts[ok][inl].reshape(-1, 2)
        residual = float(np.median(np.linalg.norm(src @ fit[:, :2].T + fit[:, 2] - dst, axis=1))) / self._scale
        self._followed, self._last_pts = followed, pts
        return self._full_size(fit), n, residual

    def _full_size(self, fit: np.ndarray) -> np.ndarray:
        """A work-size 2x3 fit as a full-size 3x3 matrix (the zoom and turn stay; the shift scales)."""
        m = np.vstack([fit, [0.0, 0.0, 1.0]])
        m[:2, 2] /= self._scale
        return m

    def _rekey(
        self, gray: np.ndarray, boxes: list[tuple[float, ...]], to_origin: np.ndarray, n: int, res: float
    ) -> np.ndarray:
        """This trusted frame becomes the keyframe: fresh corners outside the person, its transform the chain's."""
        self._key_gray = gray
        self._key_pts = _corners(gray, boxes)
        self._last_pts = self._key_pts
        self._key_to_origin = to_origin
        self._good, self._good_corners = (gray, boxes, to_origin), None
        return _as_row(to_origin, n, res, TRACKED)


def _corners(gray: np.ndarray, boxes: list[tuple[float, ...]]) -> np.ndarray | None:
    """Corners to follow, outside the person's boxes; None when the picture is too plain to give enough."""
    mask = np.full(gray.shape, 255, np.uint8)
    for x0, y0, x1, y1 in boxes:
        mask[max(0, int(y0)) : max(0, int(np.ceil(y1))), max(0, int(x0)) : max(0, int(np.ceil(x1)))] = 0
    pts = cv2.goodFeaturesToTrack(gray, MAX_CORNERS, CORNER_QUALITY, CORNER_SPACING, mask=mask)
    return pts if pts is not None and len(pts) >= MIN_INLIERS else None


def _outside(pts: np.ndarray, boxes: list[tuple[float, ...]]) -> np.ndarray:
    keep = np.ones(len(pts), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        keep &= ~((pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1))
    return keep


def person_box(
    xy: np.ndarray, width: int, height: int, margin: float = PERSON_MARGIN
) -> tuple[float, float, float, float] | None:
    """The landmarks' box (N, 2 px) grown by `margin` of its size, clipped to the picture; None without landmarks."""
    finite = xy[np.all(np.isfinite(xy), axis=1)]
    if not len(finite):
        return None
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    pad = margin * (hi - lo)
    x0, y0 = np.maximum(lo - pad, 0)
    x1, y1 = np.minimum(hi + pad, (width, height))
    return float(x0), float(y0), float(x1), float(y1)


def chain(rows: list[np.ndarray], index: list[np.ndarray], origins: list[int]) -> np.ndarray:
    """The rows of chunks followed in parallel as one chain into the first chunk's first picture: chunk k
    started following the scene at frame `origins[k]`, a frame of an earlier chunk (its warm-up), whose row
    carries it over. `index` holds each chunk's frame indices."""
    out = [rows[0]]
    for k in range(1, len(rows)):
        part = rows[k].copy()
        seen = np.concatenate(index[:k])
        at = np.flatnonzero(seen == origins[k])
        if at.size:
            m = as_matrices(np.concatenate(out)[at[0]])[0] @ as_matrices(part)
            part[:, 0], part[:, 1], part[:, 2], part[:, 3] = m[:, 0, 0], m[:, 1, 0], m[:, 0, 2], m[:, 1, 2]
        out.append(part)
    return np.concatenate(out)
