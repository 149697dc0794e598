"""Synthetic `PoseTrack`s of a parametric standing figure, for tests whose answers are known by construction.

The figure faces the camera: the subject's left side is at +x in the picture, image y grows downwards.
All 33 BlazePose landmarks are placed anatomically from one length, the leg length L (hip to ankle, px).
Each leg keeps its two segments at L/2 however the foot moves (the knee bends sideways in the picture),
so the hip-knee-ankle leg length the stance logic divides by is exactly L in every frame, and a foot
lifted by h leg lengths is exactly h above the floor in the units of the thresholds.

World landmarks are the image ones in metres, centred on the hip centre per frame (y down), with a fixed
per-landmark depth, as MediaPipe's world landmarks are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from balance.measure.body import centre_of_mass
from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack
from balance.pose.sides import MIRROR
from balance.stance.trials import Trial

FPS = 30.0

PerFrame = float | np.ndarray


@dataclass(frozen=True)
class Figure:
    """Body proportions and placement in the picture; lengths in pixels unless named otherwise."""

    leg_px: float = 300.0  # hip to ankle, L
    centre_x: float = 640.0
    floor_y: float = 690.0  # y of the heels and toes of a foot on the floor
    trunk_per_leg: float = 0.6  # hip centre to shoulder centre, in L (Winter's 0.29 H over 0.49 H)
    shoulder_per_trunk: float = 0.7  # shoulder width over trunk length: ~0.7 facing the camera
    hip_half_width: float = 0.1  # in L
    leg_m: float = 0.85  # the leg length in metres, for world landmarks
    width: int = 1280
    height: int = 720

    @property
    def ankle_y(self) -> float:
        return self.floor_y - 0.06 * self.leg_px

    @property
    def hip_y(self) -> float:
        return self.ankle_y - self.leg_px

    @property
    def shoulder_y(self) -> float:
        return self.hip_y - self.trunk_per_leg * self.leg_px

    @property
    def trunk_px(self) -> float:
        return self.trunk_per_leg * self.leg_px

    @property
    def px_per_m(self) -> float:
        return self.leg_px / self.leg_m


# Offsets from anchor points, in L: (landmark name without side, anchor, outward x, y); outward x is
# multiplied by +1 on the subject's left and -1 on the right.
_HEAD = {  # anchor: the ears' level on the midline, 0.2 L above the shoulder centre
    "nose": (0.0, 0.02),
    "eye_inner": (0.015, -0.02),
    "eye": (0.03, -0.02),
    "eye_outer": (0.045, -0.02),
    "ear": (0.07, 0.0),
    "mouth": (0.025, 0.07),
}
_ARM = {  # anchor: the shoulder of that side
    "elbow": (0.03, 0.30),
    "wrist": (0.04, 0.55),
    "pinky": (0.05, 0.62),
    "index": (0.03, 0.63),
    "thumb": (0.02, 0.60),
}
# Depth (metres, + away from the camera) of each landmark, so world z is not all zeros.
_DEPTH = {"nose": -0.10, "eye": -0.07, "mouth": -0.08, "ear": 0.0, "foot_index": -0.15, "heel": 0.05}


def _name(part: str, side: str) -> str:
    if part in ("eye_inner", "eye", "eye_outer"):
        return f"{side}_{part}"
    if part == "mouth":
        return f"mouth_{side}"
    return f"{side}_{part}"


def _per_frame(value: PerFrame, n: int) -> np.ndarray:
    out = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    return out


def _knee(hip: np.ndarray, ankle: np.ndarray, half_leg: float, outward: float) -> np.ndarray:
    """Knee keeping both segments at half_leg, bent outward (sideways) when the foot is raised."""
    d = ankle - hip
    dist = np.linalg.norm(d, axis=1, keepdims=True)
    u = d / dist
    normal = np.column_stack([-u[:, 1], u[:, 0]])
    normal *= np.sign(normal[:, :1] * outward + 1e-12)  # the perpendicular pointing away from the midline
    bend = np.sqrt(np.clip(half_leg**2 - (dist / 2) ** 2, 0.0, None))
    return hip + d / 2 + bend * normal


def figure_xy(
    n: int,
    *,
    lift_left: PerFrame = 0.0,
    lift_right: PerFrame = 0.0,
    foot_dx_left: PerFrame = 0.0,
    foot_dx_right: PerFrame = 0.0,
    sway_px: PerFrame = 0.0,
    shift_px: np.ndarray | tuple[float, float] = (0.0, 0.0),
    figure: Figure = Figure(),
) -> np.ndarray:
    """(n, 33, 2) image landmarks in pixels.

    lift_*: foot height above the floor in leg lengths; foot_dx_*: foot moved sideways, px;
    sway_px: everything above the ankles moved sideways, px (the feet stay where they are);
    shift_px: (2,) or (n, 2) translation of the whole figure, feet included.
    """
    f = figure
    L = f.leg_px
    xy = np.full((n, lm.N_LANDMARKS, 2), np.nan)
    sway = _per_frame(sway_px, n)

    def put(name: str, x: np.ndarray | float, y: np.ndarray | float) -> None:
        xy[:, lm.INDEX[name], 0] = x
        xy[:, lm.INDEX[name], 1] = y

    lifts = {"left": _per_frame(lift_left, n), "right": _per_frame(lift_right, n)}
    dxs = {"left": _per_frame(foot_dx_left, n), "right": _per_frame(foot_dx_right, n)}
    half_shoulder = 0.5 * f.shoulder_per_trunk * f.trunk_px
    ear_y = f.shoulder_y - 0.2 * L
    for side in lm.SIDES:
        s = 1.0 if side == "left" else -1.0
        # Leg: the hip sways with the body, the foot only moves when lifted or moved sideways.
        hip = np.column_stack([np.full(n, f.centre_x + s * f.hip_half_width * L) + sway, np.full(n, f.hip_y)])
        foot_x = f.centre_x + s * f.hip_half_width * L + dxs[side]
        raise_px = lifts[side] * L
        ankle = np.column_stack([foot_x, f.ankle_y - raise_px])
        put(f"{side}_hip", hip[:, 0], hip[:, 1])
        put(f"{side}_ankle", ankle[:, 0], ankle[:, 1])
        knee = _knee(hip, ankle, L / 2, s)
        put(f"{side}_knee", knee[:, 0], knee[:, 1])
        put(f"{side}_heel", foot_x, f.floor_y - raise_px)
        put(f"{side}_foot_index", foot_x + s * 0.03 * L, f.floor_y - raise_px)
        # Arm hanging beside the trunk.
        shoulder_x = f.centre_x + s * half_shoulder + sway
        put(f"{side}_shoulder", shoulder_x, f.shoulder_y)
        for part, (dx, dy) in _ARM.items():
            put(_name(part, side), shoulder_x + s * dx * L, f.shoulder_y + dy * L)
        for part, (dx, dy) in _HEAD.items():
            if part != "nose":
                put(_name(part, side), f.centre_x + sway + s * dx * L, ear_y + dy * L)
    put("nose", f.centre_x + sway + _HEAD["nose"][0] * L, ear_y + _HEAD["nose"][1] * L)
    assert np.all(np.isfinite(xy)), "every landmark is placed"
    return xy + np.broadcast_to(np.asarray(shift_px, dtype=np.float64), (n, 2))[:, None, :]


def _depth_m() -> np.ndarray:
    z = np.zeros(lm.N_LANDMARKS)
    for i, name in enumerate(lm.NAMES):
        for part, depth in _DEPTH.items():
            if part in name.split("_") or name.endswith(part):
                z[i] = depth
    return z


def world_from_image(xy: np.ndarray, figure: Figure = Figure()) -> np.ndarray:
    """(n, 33, 3) metres: the image landmarks about their hip centre, scaled, plus a fixed depth per landmark."""
    hips = 0.5 * (xy[:, lm.HIP["left"]] + xy[:, lm.HIP["right"]])
    planar = (xy - hips[:, None, :]) / figure.px_per_m
    z = np.broadcast_to(_depth_m(), xy.shape[:2])
    return np.concatenate([planar, z[..., None]], axis=2)


def clip_times(duration_s: float, fps: float = FPS, t0: float = 0.0) -> np.ndarray:
    """Frame times of a constant-rate clip, the last frame before duration_s."""
    return t0 + np.arange(int(round(duration_s * fps))) / fps


def lift_profile(t: np.ndarray, up_s: float, down_s: float, height: float, ramp_s: float = 0.2) -> np.ndarray:
    """Foot height (leg lengths): 0, a half-cosine rise centred on up_s, height, a fall centred on down_s, 0.

    A smooth ramp, as a real foot moves, rather than a one-frame jump the outlier filter would treat as noise.
    """

    def rise(centre: float) -> np.ndarray:
        x = np.clip((t - centre) / ramp_s + 0.5, 0.0, 1.0)
        return 0.5 * (1 - np.cos(np.pi * x))

    return height * (rise(up_s) - rise(down_s))


def make_track(
    t: np.ndarray,
    *,
    lift_left: PerFrame = 0.0,
    lift_right: PerFrame = 0.0,
    foot_dx_left: PerFrame = 0.0,
    foot_dx_right: PerFrame = 0.0,
    sway_px: PerFrame = 0.0,
    shift_px: np.ndarray | tuple[float, float] = (0.0, 0.0),
    jitter_px: float = 0.0,
    seed: int = 0,
    visibility: float | np.ndarray = 0.99,
    dropout: np.ndarray | None = None,
    flipped: np.ndarray | None = None,
    figure: Figure = Figure(),
) -> PoseTrack:
    """A PoseTrack of the figure at times t (see figure_xy for the motion arguments).

    jitter_px: SD of Gaussian noise added to every image coordinate (seeded), as landmark detection adds;

    dropout: (n,) bool, frames with no pose (NaN landmarks, zero visibility and presence, as pose.py writes);
    flipped: (n,) bool, frames whose left and right labels MediaPipe exchanged (the whole skeleton).
    """
    t = np.asarray(t, dtype=np.float64)
    n = len(t)
    xy = figure_xy(
        n,
        lift_left=lift_left,
        lift_right=lift_right,
        foot_dx_left=foot_dx_left,
        foot_dx_right=foot_dx_right,
        sway_px=sway_px,
        shift_px=shift_px,
        figure=figure,
    )
    if jitter_px:
        xy += np.random.default_rng(seed).normal(0.0, jitter_px, xy.shape)
    world = world_from_image(xy, figure)
    image_z = world[:, :, 2] * figure.px_per_m
    vis = np.broadcast_to(np.asarray(visibility, dtype=np.float64), (n, lm.N_LANDMARKS)).copy()
    presence = np.full((n, lm.N_LANDMARKS), 0.99)
    if flipped is not None:
        f = np.asarray(flipped, dtype=bool)
        for a in (xy, world, image_z, vis, presence):
            a[f] = a[f][:, MIRROR]
    if dropout is not None:
        d = np.asarray(dropout, dtype=bool)
        xy[d] = np.nan
        world[d] = np.nan
        image_z[d] = np.nan
        vis[d] = 0.0
        presence[d] = 0.0
    return PoseTrack(
        t=t,
        frame_index=np.arange(n, dtype=np.int64),
        image_xy=xy,
        image_z=image_z,
        visibility=vis,
        presence=presence,
        world=world,
        width=figure.width,
        height=figure.height,
        clip_sha256="0" * 64,
        model_name="synthetic",
        model_sha256="0" * 64,
        frames_in_clip=n,
        truncated=False,
        timestamps_from_container=True,
    )


def between(t: np.ndarray, start_s: float, stop_s: float) -> np.ndarray:
    """(n,) bool: frames with start_s <= t < stop_s."""
    return (t >= start_s) & (t < stop_s)


# --- moving parts of the figure, for the interpretation tests (decompose, tripod, flags) ---------------

# Everything above the hips: head, shoulders, arms and hands (BlazePose indices 0-22).
UPPER_BODY = tuple(range(lm.HIP["left"]))


def leg(side: str) -> tuple[int, ...]:
    """A leg below its hip: knee, ankle, heel and toe."""
    return (lm.KNEE[side], *lm.FOOT[side])


def rotate(xy: np.ndarray, which: tuple[int, ...], pivot: np.ndarray, angle_rad: PerFrame) -> np.ndarray:
    """A copy of xy with the landmarks `which` turned in the picture about pivot ((2,) or (n, 2)) by angle_rad.

    Positive angles move a point above the pivot towards +x, the sign of body.tilt_deg (image y grows downwards).
    """
    n = len(xy)
    a = _per_frame(angle_rad, n)[:, None]
    centre = np.broadcast_to(np.asarray(pivot, dtype=np.float64), (n, 2))[:, None, :]
    d = xy[:, which] - centre
    out = xy.copy()
    out[:, which, 0] = centre[..., 0] + d[..., 0] * np.cos(a) - d[..., 1] * np.sin(a)
    out[:, which, 1] = centre[..., 1] + d[..., 0] * np.sin(a) + d[..., 1] * np.cos(a)
    return out


def place_hands(xy: np.ndarray, on_hips: PerFrame, figure: Figure = Figure()) -> np.ndarray:
    """A copy of xy with both arms placed: on_hips 1 = hands resting on the hips (wrists 0.07 L from the hip
    landmark), 0 = arms held out to the sides (wrists 0.35 L out from the hip), values between blend the two."""
    L = figure.leg_px
    w = _per_frame(on_hips, len(xy))[:, None]
    out = xy.copy()
    for side in lm.SIDES:
        s = 1.0 if side == "left" else -1.0
        hip, shoulder = xy[:, lm.HIP[side]], xy[:, lm.SHOULDER[side]]
        wrist = hip + w * np.array([s * 0.05 * L, -0.05 * L]) + (1 - w) * np.array([s * 0.35 * L, -0.05 * L])
        elbow = shoulder + w * np.array([s * 0.15 * L, 0.30 * L]) + (1 - w) * np.array([s * 0.25 * L, 0.25 * L])
        out[:, lm.WRIST[side]] = wrist
        out[:, lm.ELBOW[side]] = elbow
        for part, (dx, dy) in (("pinky", (0.02, 0.05)), ("index", (0.0, 0.06)), ("thumb", (-0.01, 0.04))):
            out[:, lm.INDEX[f"{side}_{part}"]] = wrist + np.array([s * dx * L, dy * L])
    return out


def track_from_xy(
    t: np.ndarray, xy: np.ndarray, *, jitter_px: float = 0.0, seed: int = 0, figure: Figure = Figure()
) -> PoseTrack:
    """A PoseTrack from hand-placed image landmarks, with world landmarks and noise as make_track makes them."""
    t = np.asarray(t, dtype=np.float64)
    n = len(t)
    xy = np.array(xy, dtype=np.float64)
    if jitter_px:
        xy += np.random.default_rng(seed).normal(0.0, jitter_px, xy.shape)
    world = world_from_image(xy, figure)
    return PoseTrack(
        t=t,
        frame_index=np.arange(n, dtype=np.int64),
        image_xy=xy,
        image_z=world[:, :, 2] * figure.px_per_m,
        visibility=np.full((n, lm.N_LANDMARKS), 0.99),
        presence=np.full((n, lm.N_LANDMARKS), 0.99),
        world=world,
        width=figure.width,
        height=figure.height,
        clip_sha256="0" * 64,
        model_name="synthetic",
        model_sha256="0" * 64,
        frames_in_clip=n,
        truncated=False,
        timestamps_from_container=True,
    )


def hold_trial(
    t: np.ndarray, stance: str = "left", lift_off_s: float = 1.0, touch_down_s: float | None = 13.0
) -> Trial:
    """The Trial find_trials would report for a hold between these times, built directly."""
    start = int(np.searchsorted(t, lift_off_s))
    stop = int(np.searchsorted(t, touch_down_s)) if touch_down_s is not None else len(t)
    return Trial(stance, lift_off_s, touch_down_s, start == 0, start, stop, float(t[stop - 1]))


def balanced_sway_px(stance: str = "left", lift: float = 0.5, figure: Figure = Figure()) -> float:
    """The constant sway_px that puts the centre of mass of the figure, standing on `stance` with the other foot
    `lift` leg lengths up, over the stance foot's axis (the mean x of its ankle, heel and toe), as a balanced
    person's is. The plain figure's is 0.45 foot lengths to the free side, a pose nobody can hold."""
    lifts = {f"lift_{lm.other(stance)}": lift}
    sway = 0.0
    for _ in range(8):  # fixed point: the knees bend as the hips move, so the mass follows the sway almost 1:1
        xy = figure_xy(1, sway_px=sway, figure=figure, **lifts)  # type: ignore[arg-type]
        sway += float(xy[0, list(lm.FOOT[stance]), 0].mean() - centre_of_mass(xy)[0, 0])
    return sway
