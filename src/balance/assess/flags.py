"""Plain-words flags for one trial (wobble, instability, hip drop, trunk lean, foot loading, foot shifting,
arms off the hips, touch-down) and for a pair of trials (left/right asymmetry), each with its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from balance.assess.decompose import Decomposition
from balance.assess.tripod import TRIPOD, TripodEstimate
from balance.measure.body import LEG_LENGTH_PER_HEIGHT, hip_centre, shoulder_centre
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
# Instability: the centre of mass's projection outside the foot outline (the base of support) for at
# least 0.2 s: a near-loss of balance that needs a step or a large correction (Pai & Patton 1997,
# J Biomech 30:347, "Center of mass velocity-position predictions for balance control"). The ball of the
# foot is 0.39 foot lengths wide (Hawes & Sovak 1994), so +-0.195 either side of the foot's axis.
FOOT_HALF_WIDTH = 0.195
MIN_EXCURSION_S = 0.2
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
# Weight on the outside / inside: the estimated centre-of-mass position more than a quarter of the
# tripod's width (0.30 foot lengths between the ball points) from the tripod's centre line. The
# programme asks for the weight balanced over the three points; many runners load the outside.
TRIPOD_CENTRE = float(np.mean([p[1] for p in TRIPOD.values()]))
LOADING_MARGIN = 0.25 * (TRIPOD["inner_ball"][1] - TRIPOD["outer_ball"][1])
# Stance foot shifting: the Balance Error Scoring System counts "lifting forefoot or heel" and "stepping"
# as errors (Riemann, Guskiewicz & Shields 1999, J Sport Rehabil 8:71). The foot's centre moving more than
# 3 cm in the picture (range after filtering) is the tool's line: above the landmark jitter measured on the
# noise-floor clip.
FOOT_SHIFT_CM = 3.0
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


def trial_flags(w: Window, sway: SwayMetrics, deco: Decomposition, tripod: TripodEstimate) -> tuple[Flag, ...]:
    flags: list[Flag] = []
    to_cm, assumed = cm_per_unit(sway)
    com = next(m for m in sway.observed if m.name == "centre_of_mass")
    v_cm = com.mean_velocity * to_cm
    limit = WOBBLE_CM_S[sway.horizontal_axis]
    if v_cm >= limit:
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
    if deco.bands["fast_wobble"] > FAST_WOBBLE_SHARE and fast_rms_cm >= FAST_WOBBLE_MIN_CM:
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
    flags += _instability(sway, tripod)
    flags += _pelvis_and_trunk(sway)
    flags += _loading(tripod)
    flags += _foot_shift(sway, to_cm, assumed)
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


def _instability(sway: SwayMetrics, tripod: TripodEstimate) -> list[Flag]:
    axis = 1 if sway.view == "front" else 0
    pos = tripod.projection[:, axis]
    outside = np.abs(pos - (0.0 if axis else 0.5)) > (FOOT_HALF_WIDTH if axis else 0.5)
    spans = _spans(sway.grid, outside, MIN_EXCURSION_S)
    if not spans:
        return []
    where = "beyond the edge of the foot" if axis else "beyond the heel or the toes"
    return [
        Flag(
            "instability",
            f"Near loss of balance {len(spans)} time{'s' * (len(spans) > 1)}: the centre of mass went {where} "
            f"(first at {spans[0][0]:.1f} s).",
            float(sum(b - a for a, b in spans)),
            MIN_EXCURSION_S,
            "s outside the base of support (estimate)",
            "Pai & Patton 1997, J Biomech 30:347; foot width from Hawes & Sovak 1994",
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
    offset = tripod.mean_medial - TRIPOD_CENTRE
    if abs(offset) < LOADING_MARGIN:
        return []
    side = "inside (big-toe side)" if offset > 0 else "outside (little-toe side)"
    code = "weight_inside" if offset > 0 else "weight_outside"
    return [
        Flag(
            code,
            f"Weight on the {side} of the foot: estimated {abs(offset):.2f} foot lengths from the tripod's "
            f"centre line (outer ball {100 * tripod.split['outer_ball']:.0f} %, inner ball "
            f"{100 * tripod.split['inner_ball']:.0f} %, big toe {100 * tripod.split['big_toe']:.0f} %). "
            "An estimate from body geometry, not a pressure measurement.",
            offset,
            LOADING_MARGIN,
            "foot lengths (estimate)",
            "tripod geometry (tripod.py); the programme's advice: weight balanced over the three points",
        )
    ]


def _foot_shift(sway: SwayMetrics, to_cm: float, assumed: str) -> list[Flag]:
    foot = next(m for m in sway.observed if m.name == "stance_foot")
    shift = max(foot.range) * to_cm
    if shift < FOOT_SHIFT_CM:
        return []
    return [
        Flag(
            "foot_shift",
            f"The standing foot shifted: it moved {shift:.1f} cm in the picture{assumed} (heel or forefoot "
            "lifting, or the foot sliding).",
            shift,
            FOOT_SHIFT_CM,
            "cm",
            "BESS error 'lifting forefoot or heel', Riemann, Guskiewicz & Shields 1999 (size: tool's threshold)",
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
