"""Plain-words flags for one trial (wobble, instability, hip drop, trunk lean, foot loading, foot shifting,
arms off the hips, touch-down) and for a pair of trials (left/right asymmetry), each with its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import median_filter

from balance.assess.decompose import Decomposition
from balance.assess.tripod import Z95, TripodEstimate
from balance.measure.body import LEG_LENGTH_PER_HEIGHT, centre_of_mass, hip_centre, leg_length, shoulder_centre
from balance.measure.signals import clean
from balance.measure.trial import SwayMetrics, Window
from balance.pose import landmarks as lm

# Wobble: centre-of-mass velocity against the one-legged-stance force-plate cut-offs of Oliveira et al.
# 2018 (PLoS One 13:e0203887; eyes open, 30 s): 3.4 cm/s medio-lateral, 2.9 cm/s antero-posterior
# separated fallers from non-fallers. Those are centre-of-PRESSURE velocities, which run higher than
# the centre of mass's (the pressure oscillates about the mass to steer it; Winter 1995, Gait Posture
# 3:193), so reaching them with the centre of mass is a clear sign, never a borderline one.
WOBBLE_CM_S = {"ml": 3.4, "ap": 2.9, "mixed": 2.9}
# Without --height-cm the speed is converted with a 170 cm adult, and the flag says so.
ASSUMED_HEIGHT_CM = 170.0
# Fast corrective wobble: more than a quarter of the sway power above 2 Hz (bands after Paillard &
# Noé 2015, see decompose.py); quiet single-leg stance keeps most power below 1 Hz.
FAST_WOBBLE_SHARE = 0.25
# ... and only when that fast part is itself bigger than the camera's noise: an RMS of 0.1 cm, about three
# times the still noise-floor clip's (benchmarks/accuracy.py), so a motionless person is never "jittery".
FAST_WOBBLE_MIN_CM = 0.1
# Near loss of balance: what a physiotherapist calls one is a fast excursion with a recovery (arms thrown out,
# a trunk jerk, a hop), not a position: a steady offset between the mass and the foot is a measurement's
# bias (the time-averaged mass lies over the foot; Winter 1995, Gait Posture 3:193). So the flag looks for
# the centre of mass of the body without the free leg (a swinging leg moves the whole-body mass without any
# loss of balance) leaving its own running 2 s median by more than the foot's half-width for at least 0.2 s:
# a shift the size of the base of support within about a second, the margin Pai & Patton 1997 (J Biomech
# 30:347) show a step is needed beyond. The ball of the foot is 0.39 foot lengths wide (Hawes & Sovak 1994)
# and a foot 0.31 leg lengths (Winter 2009), so the half-width is 0.06 leg lengths (~5 cm). On the labelled
# real clips' steady holds the largest such excursion is 0.025 leg lengths, on the lateral leg swing 0.044
# (benchmarks/README.md, "Real clips").
FOOT_HALF_WIDTH = 0.195
EXCURSION_LEGS = FOOT_HALF_WIDTH * 0.31
BASELINE_S = 2.0
MIN_EXCURSION_S = 0.2
# The flags read from the sway itself, which are not judged where the picture moved and nothing showed how
# (pose/steady.py, "moved").
SWAY_FLAGS = frozenset({"wobble", "fast_wobble", "instability"})
# Hip drop: the free side of the pelvis sagging below the stance side is the Trendelenburg sign of weak
# hip abductors (Hardcastle & Nade 1985, J Bone Joint Surg Br 67:741). The sign is clinical, not a
# number; 4 degrees below level is the tool's line: about twice the pelvic-line jitter measured on the
# still noise-floor clip, so a flag is a real drop.
HIP_DROP_DEG = 4.0
# Trunk lean: the hip-to-shoulder line more than 10 degrees from vertical on average, or swaying with an
# RMS above 3 degrees. Lateral trunk lean over the stance leg is the compensation for weak abductors
# that accompanies the Trendelenburg sign (Hardcastle & Nade 1985); the numbers are the tool's choice.
TRUNK_LEAN_DEG = 10.0
TRUNK_SWAY_RMS_DEG = 3.0
# Weight on the outside / inside: only when the tripod's answer (tripod.py) says so, that is when the 95 %
# interval of the mean side-to-side position, with its systematic error, clears the middle band of the tripod.
# Stance foot shifting: the Balance Error Scoring System counts "lifting forefoot or heel" and "stepping"
# as errors (Riemann, Guskiewicz & Shields 1999, J Sport Rehabil 8:71). A real shift moves the heel, the ankle
# and the toe together and the foot stays moved; landmark glitches move one point, and drift is slow. So the
# flag compares, at every instant, the median position of each of the three over the second before with the
# second after: all three must have moved, in the same direction, by more than FOOT_SHIFT_LEGS. 0.06 leg
# lengths (~5 cm) is the tool's line: above the largest such step on the labelled real steady holds and their
# variants, 0.036 leg lengths (benchmarks/README.md, "Real clips").
FOOT_SHIFT_LEGS = 0.06
FOOT_SHIFT_WINDOW_S = 1.0
SAME_DIRECTION_COS = 0.7
# Hands off the hips: the other BESS error used here ("lifting hands off iliac crests"). It applies when
# the hands rest on the hips for most of the trial (the protocol), and counts stretches of at least 0.5 s
# with a wrist more than a quarter of the trunk length from its hip.
HANDS_ON_HIPS_SHARE = 0.6
HANDS_OFF_TRUNK = 0.25
HANDS_OFF_MIN_S = 0.5
# The programme's test lasts 30 s (single-leg stance tests run 30-45 s, Springer et al. 2007, J Geriatr Phys
# Ther 30:8).
FULL_HOLD_S = 30.0
# Asymmetry: a limb symmetry index (LSI = weaker / stronger leg) below 90 %, the criterion used for return to
# sport in hop and strength tests (Grindem et al. 2011, Am J Sports Med 39:2347; Grindem et al. 2016, Br J Sports
# Med 50:804; 85 % in Noyes et al. 1991, Am J Sports Med 19:513). No balance-specific cut-off for single-leg sway
# is established; the tool borrows the 90 % criterion, for one session's trials and for the history's trends.
SYMMETRY_INDEX = 0.90


@dataclass(frozen=True)
class Flag:
    code: str
    text: str  # plain words for the runner
    value: float | None  # the measured size, in `unit`
    threshold: float | None
    unit: str
    source: str
    times: tuple[tuple[float, float], ...] = field(default=())  # (start, end) s of each occurrence
    bess_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "text": self.text,
            "value": None if self.value is None else round(self.value, 3),
            "threshold": self.threshold,
            "unit": self.unit,
            "source": self.source,
            "times": [[round(a, 2), round(b, 2)] for a, b in self.times],
            "bess_error": self.bess_error,
        }


def _spans(t: np.ndarray, mask: np.ndarray, min_s: float) -> tuple[tuple[float, float], ...]:
    """(start, end) times of runs of True lasting at least min_s."""
    out = []
    i = 0
    while i < len(mask):
        if mask[i]:
            j = i
            while j + 1 < len(mask) and mask[j + 1]:
                j += 1
            if t[j] - t[i] >= min_s:
                out.append((float(t[i]), float(t[j])))
            i = j + 1
        else:
            i += 1
    return tuple(out)


def cm_per_unit(sway: SwayMetrics) -> tuple[float, str]:
    """Centimetres per reported unit, and a note when the height had to be assumed."""
    if sway.scale.unit == "cm":
        return 1.0, ""
    leg_cm = LEG_LENGTH_PER_HEIGHT * ASSUMED_HEIGHT_CM
    return leg_cm / 100.0, f" (assuming a {ASSUMED_HEIGHT_CM:.0f} cm adult; give --height-cm)"


def trial_flags(
    w: Window, sway: SwayMetrics, deco: Decomposition, tripod: TripodEstimate, as_filmed: Window | None = None
) -> tuple[Flag, ...]:
    """The trial's flags; `as_filmed`, where the camera's motion was taken out of `w`, is the same window with the
    landmarks where the camera saw them."""
    flags: list[Flag] = []
    to_cm, assumed = cm_per_unit(sway)
    com = next(m for m in sway.observed if m.name == "centre_of_mass")
    v_cm = com.mean_velocity * to_cm
    limit = WOBBLE_CM_S[sway.horizontal_axis]
    # Where the picture moved and the background could not show how (pose/steady.py, "moved"), the sway read is
    # partly the camera's: wobble, fast wobble and near losses of balance are not judged (the result says so).
    judged = sway.camera is None or sway.camera.sway_judgeable
    if judged and v_cm >= limit:
        flags.append(
            Flag(
                "wobble",
                f"Wobbly: your centre of mass moved {v_cm:.1f} cm/s on average{assumed}, at or above the "
                f"{limit} cm/s that marks poor one-leg balance.",
                v_cm,
                limit,
                "cm/s",
                "Oliveira et al. 2018, PLoS One 13:e0203887 (centre-of-pressure cut-off; strict for the mass)",
            )
        )
    fast_rms_cm = np.sqrt(deco.bands["fast_wobble"]) * com.rms[0] * to_cm
    if judged and deco.bands["fast_wobble"] > FAST_WOBBLE_SHARE and fast_rms_cm >= FAST_WOBBLE_MIN_CM:
        flags.append(
            Flag(
                "fast_wobble",
                f"Jittery corrections: {100 * deco.bands['fast_wobble']:.0f} % of the sway is quicker than "
                "2 per second, the fast ankle-and-foot corrections of an unsettled stance.",
                deco.bands["fast_wobble"],
                FAST_WOBBLE_SHARE,
                "fraction of sway power above 2 Hz",
                "bands after Paillard & Noé 2015, Scientifica 2015:891390",
            )
        )
    flags += _instability(w) if judged else []
    flags += _pelvis_and_trunk(sway)
    flags += _loading(tripod)
    if sway.camera is None or sway.camera.foot_judgeable:
        # Where the camera's motion could not be told apart (too much of it, or a background too plain to
        # follow), a planted foot's apparent move may be the camera's: it is not judged (the document's
        # camera_motion says so) rather than flagged from the camera's motion.
        leg_cm = sway.scale.leg_length_px / sway.scale.image_per_unit * to_cm
        shift = _foot_shift(w, leg_cm, assumed)
        if shift and as_filmed is not None and not _foot_shift(as_filmed, leg_cm, assumed):
            # A foot that stood still in the picture while the corrected landmarks moved would have had to move
            # exactly with the camera: the correction followed something else (a passer-by's clothes outnumbering
            # the scene's corners, P9-walker in benchmarks/README.md), so only a shift seen both ways is flagged.
            shift = []
        flags += shift
    flags += _hands(w, sway)
    if sway.trial.touch_down_s is not None:
        # A foot put down after the full test time is the end of the test, not an error.
        early = sway.trial.hold_s < FULL_HOLD_S
        flags.append(
            Flag(
                "touch_down",
                f"The free foot touched down at {sway.trial.touch_down_s:.1f} s, ending the hold after "
                f"{sway.trial.hold_s:.1f} s.",
                sway.trial.hold_s,
                None,
                "s",
                "Riemann, Guskiewicz & Shields 1999, J Sport Rehabil 8:71 (BESS error: step or stumble)",
                ((sway.trial.touch_down_s, sway.trial.touch_down_s),),
                bess_error=early,
            )
        )
    return tuple(flags)


def _instability(w: Window) -> list[Flag]:
    if w.valid.sum() < 4:
        return []
    legs = float(np.nanmedian(leg_length(w.xy, w.stance)))
    free = lm.other(w.stance)
    body = centre_of_mass(w.xy, exclude=(f"{free}_thigh", f"{free}_shank", f"{free}_foot"))
    x = (body[:, 0] - w.xy[:, lm.ANKLE[w.stance], 0]) / legs
    grid, x_f, _ = clean(w.t, x, w.valid, w.fs)
    baseline = median_filter(x_f, size=max(3, int(BASELINE_S * w.fs) | 1), mode="nearest")
    excursion = np.abs(x_f - baseline)
    spans = _spans(grid, excursion > EXCURSION_LEGS, MIN_EXCURSION_S)
    if not spans:
        return []
    return [
        Flag(
            "instability",
            f"Near loss of balance {len(spans)} time{'s' * (len(spans) > 1)} (first at {spans[0][0]:.1f} s): the "
            f"body swung {float(excursion.max()) / 0.31:.2f} foot lengths off its line within a second or two and "
            "was pulled back.",
            float(excursion.max()),
            EXCURSION_LEGS,
            "leg lengths from the 2 s running median (body without the free leg)",
            "Pai & Patton 1997, J Biomech 30:347 (a step is needed beyond the base of support); foot half-width "
            "from Hawes & Sovak 1994",
            spans,
        )
    ]


def _pelvis_and_trunk(sway: SwayMetrics) -> list[Flag]:
    flags = []
    series = sway.series["pelvic_tilt"]
    if sway.view != "side" and float(np.mean(series)) <= -HIP_DROP_DEG:
        spans = _spans(sway.grid, series <= -HIP_DROP_DEG, 0.5)
        flags.append(
            Flag(
                "hip_drop",
                f"Hip drop: the free side of your pelvis sagged {abs(np.mean(series)):.0f} degrees below the "
                "standing side: the hip muscles of the standing leg are not holding the pelvis level.",
                float(-np.mean(series)),
                HIP_DROP_DEG,
                "deg",
                "Trendelenburg sign, Hardcastle & Nade 1985, J Bone Joint Surg Br 67:741 (threshold: tool's)",
                spans,
            )
        )
    trunk = next(m for m in sway.angles if m.name == "trunk_lean")
    lean = float(np.mean(sway.series["trunk_lean"]))
    if abs(lean) >= TRUNK_LEAN_DEG or trunk.rms[0] >= TRUNK_SWAY_RMS_DEG:
        flags.append(
            Flag(
                "trunk_lean",
                f"Trunk lean: your upper body leaned {abs(lean):.0f} degrees on average and swayed "
                f"{trunk.rms[0]:.1f} degrees (RMS) in the picture.",
                abs(lean),
                TRUNK_LEAN_DEG,
                "deg",
                f"lean >= {TRUNK_LEAN_DEG:g} deg or sway RMS >= {TRUNK_SWAY_RMS_DEG:g} deg (tool's threshold; "
                "compensation described by Hardcastle & Nade 1985)",
            )
        )
    return flags


def _loading(tripod: TripodEstimate) -> list[Flag]:
    """Only when the position's whole 95 % interval (jitter and systematic error) clears the middle band."""
    if tripod.answer not in ("inside", "outside"):
        return []
    side = "inside (big-toe side)" if tripod.answer == "inside" else "outside (little-toe side)"
    lo, hi = tripod.medial_ci95
    return [
        Flag(
            f"weight_{tripod.answer}",
            f"Weight on the {side} of the foot: estimated {tripod.mean_medial:+.2f} foot lengths from the foot's "
            f"centre line (95 % interval {lo:+.2f} to {hi:+.2f}, camera roll and body model included). "
            "An estimate from body geometry, not a pressure measurement.",
            tripod.mean_medial,
            Z95 * tripod.medial_sd_total,
            "foot lengths (estimate)",
            "tripod geometry and its measured uncertainty (tripod.py); the programme's advice: weight balanced "
            "over the three points",
        )
    ]


def _foot_shift(w: Window, leg_cm: float, assumed: str) -> list[Flag]:
    legs = float(np.nanmedian(leg_length(w.xy, w.stance)))
    half = int(round(FOOT_SHIFT_WINDOW_S * w.fs))
    steps = []
    for j in lm.FOOT[w.stance]:
        _, p, _ = clean(w.t, w.xy[:, j] / legs, w.valid, w.fs)
        if len(p) <= 2 * half:
            return []
        steps.append(
            np.array(
                [
                    np.median(p[i : i + half], axis=0) - np.median(p[i - half : i], axis=0)
                    for i in range(half, len(p) - half)
                ]
            )
        )
    d = np.stack(steps)  # (3 landmarks, instants, 2)
    size = np.linalg.norm(d, axis=2)
    mean_dir = d.sum(axis=0)
    cos = np.sum(d * mean_dir, axis=2) / (size * np.linalg.norm(mean_dir, axis=1) + 1e-12)
    shifted = np.all(size > FOOT_SHIFT_LEGS, axis=0) & np.all(cos > SAME_DIRECTION_COS, axis=0)
    if not shifted.any():
        return []
    grid = w.t[0] + (np.arange(half, half + len(shifted))) / w.fs
    spans = _spans(grid, shifted, 0.0)
    moved = float(size.min(axis=0)[shifted].max())
    return [
        Flag(
            "foot_shift",
            f"The standing foot shifted {len(spans)} time{'s' * (len(spans) > 1)} (first at {spans[0][0]:.1f} s): "
            f"heel, ankle and toe moved together by {moved * leg_cm:.0f} cm or more{assumed} and stayed moved (heel or "
            "forefoot lifting, or the foot sliding).",
            moved,
            FOOT_SHIFT_LEGS,
            "leg lengths (heel, ankle and toe all moved at least this)",
            "BESS error 'lifting forefoot or heel', Riemann, Guskiewicz & Shields 1999 (size: tool's threshold)",
            spans,
            bess_error=True,
        )
    ]


def _hands(w: Window, sway: SwayMetrics) -> list[Flag]:
    trunk = np.nanmedian(np.linalg.norm(shoulder_centre(w.xy) - hip_centre(w.xy), axis=1))
    off = np.zeros(len(w.t), dtype=bool)
    for side in lm.SIDES:
        off |= np.linalg.norm(w.xy[:, lm.WRIST[side]] - w.xy[:, lm.HIP[side]], axis=1) > HANDS_OFF_TRUNK * trunk
    on_share = float(np.mean(~off[w.valid])) if w.valid.any() else 0.0
    if on_share < HANDS_ON_HIPS_SHARE:
        return []  # hands were not on the hips: that protocol does not apply
    spans = _spans(w.t, off & w.valid, HANDS_OFF_MIN_S)
    if not spans:
        return []
    return [
        Flag(
            "hands_off_hips",
            f"Hands left the hips {len(spans)} time{'s' * (len(spans) > 1)} (first at {spans[0][0]:.1f} s): "
            "the arms were used to balance.",
            float(sum(b - a for a, b in spans)),
            HANDS_OFF_MIN_S,
            "s",
            "BESS error 'lifting hands off iliac crests', Riemann, Guskiewicz & Shields 1999",
            spans,
            bess_error=True,
        )
    ]


def asymmetry_flags(trials: list[tuple[SwayMetrics, float]]) -> tuple[Flag, ...]:
    """Left/right comparison of (sway, score) pairs when both legs were tested."""
    by_leg: dict[str, list[tuple[SwayMetrics, float]]] = {}
    for sway, score in trials:
        by_leg.setdefault(sway.trial.stance_leg, []).append((sway, score))
    if set(by_leg) != {"left", "right"}:
        return ()
    flags = []
    for what, get, unit in (
        ("hold time", lambda s, _: s.trial.hold_s, "s"),
        ("stability score", lambda _, sc: sc, "points"),
    ):
        left = max(get(s, sc) for s, sc in by_leg["left"])
        right = max(get(s, sc) for s, sc in by_leg["right"])
        lsi = min(left, right) / max(left, right) if max(left, right) > 0 else 1.0
        if lsi < SYMMETRY_INDEX:
            weaker = "left" if left < right else "right"
            flags.append(
                Flag(
                    "asymmetry",
                    f"Sides differ: {what} {left:.1f} {unit} on the left leg and {right:.1f} {unit} on the "
                    f"right; the {weaker} side is at {100 * lsi:.0f} % of the other (aim: 90 % or more).",
                    lsi,
                    SYMMETRY_INDEX,
                    "limb symmetry index",
                    "Grindem et al. 2016, Br J Sports Med 50:804 (90 % limb symmetry criterion)",
                )
            )
    return tuple(flags)
