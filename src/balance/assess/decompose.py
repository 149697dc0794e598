"""Where the wobble comes from: split the centre of mass's sway into foot, hip and trunk contributions.

Pure functions: a trial's landmarks -> joint rotations -> each segment's share of the sway, and its frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from balance.measure.body import centre_of_mass, hip_centre, mass_of, shoulder_centre, tilt_deg
from balance.measure.signals import clean
from balance.measure.sway import band_power_fraction, mean_power_frequency
from balance.measure.trial import Window
from balance.pose import landmarks as lm

SEGMENTS = ("foot", "hip", "trunk")
# Frequency bands of postural sway, after Paillard & Noé 2015 (Scientifica 2015:891390, "Techniques
# and methods for testing the postural function"): below 0.5 Hz slow drift (visual/vestibular
# regulation), 0.5-2 Hz corrective sway (cerebellar/vestibular), above 2 Hz fast "wobble"
# (proprioceptive and muscular corrections, the band a stiff or weak foot shows in).
BANDS = {"drift": (0.0, 0.5), "corrective": (0.5, 2.0), "fast_wobble": (2.0, np.inf)}
# A segment counts as compensating only when it takes back more than 5 % of the sway: landmark noise alone
# gives signed shares of about -0.005, a real counter-rotation -0.2 or more.
COMPENSATING = 0.05
# When the two largest shares are this close, the sway is reported as shared between them.
SHARED_MARGIN = 0.10

METHOD = (
    "linearised kinematic chain in the picture plane: a rotation d(alpha) at a joint moves the centre of "
    "mass of everything above it sideways by (its mass-weighted height above the joint) x d(alpha). "
    "Foot = the stance leg (ankle to hip centre) tilting about the ankle: the ankle strategy; hip = the "
    "pelvis (line through both hips) tilting relative to that leg: hip drop or hike, pelvis shifting; "
    "trunk = the hip-to-shoulder line tilting relative to the pelvis. Each segment's share is its "
    "contribution's covariance with the measured centre-of-mass sway (the part of the sway it accounts "
    "for; noise that does not move the centre of mass cancels), divided by the sum of the positive ones; "
    "a segment with a negative covariance moves against the sway and is listed as compensating. Side "
    "views cannot see the pelvis tilt, so there the hip share is not reported and the trunk is taken "
    "relative to the leg. 'explained_r2' is the share of the centre-of-mass sway variance the chain "
    "accounts for; the rest is arms, head and knee bending."
)


@dataclass(frozen=True)
class Decomposition:
    shares: dict[str, float]  # segments with a positive contribution: sum to 1
    signed_shares: dict[str, float]  # covariance shares before dropping compensating segments
    compensating: tuple[str, ...]
    dominant: str  # "foot", "hip", "trunk", or e.g. "hip+trunk" when the top two are close
    explained_r2: float
    bands: dict[str, float]  # COM sway power share per band: drift, corrective, fast_wobble (sum to 1)
    mean_frequency_hz: dict[str, float | None]  # per segment contribution, and "centre_of_mass"
    contributions: dict[str, np.ndarray]  # per segment, on the sway grid, pixels (for plots)

    def sentence(self) -> str:
        if "+" in self.dominant:
            a, b = self.dominant.split("+")
            text = (
                f"Your wobble is shared between the {a} ({100 * self.shares[a]:.0f} %) "
                f"and the {b} ({100 * self.shares[b]:.0f} %)."
            )
        else:
            text = f"Most of your wobble starts at the {self.dominant} ({100 * self.shares[self.dominant]:.0f} %)."
        if self.compensating:
            verb = "moves" if len(self.compensating) == 1 else "move"
            text += f" The {' and '.join(self.compensating)} {verb} against it, correcting."
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "shares": {k: round(v, 4) for k, v in self.shares.items()},
            "signed_shares": {k: round(v, 4) for k, v in self.signed_shares.items()},
            "compensating": list(self.compensating),
            "dominant": self.dominant,
            "summary": self.sentence(),
            "explained_r2": round(self.explained_r2, 3),
            "bands": {k: round(v, 4) for k, v in self.bands.items()},
            "band_limits_hz": {k: [lo, None if np.isinf(hi) else hi] for k, (lo, hi) in BANDS.items()},
            "mean_frequency_hz": self.mean_frequency_hz,
            "method": METHOD,
            "units": {"shares": "fraction of the centre-of-mass sway variance", "bands": "fraction of power"},
        }


def _height(p: np.ndarray) -> float:
    """Mean picture y (grows downwards), so height above a joint = _height(joint) - _height(point)."""
    return float(np.nanmean(p[:, 1]))


def moment_arms(xy: np.ndarray, stance: str) -> dict[str, float]:
    """Mass fraction x mean height (px) of what each rotation carries: all above the ankle (foot), all
    above the stance hip (hip), head-arms-trunk above the hip centre (trunk; Winter 2009's "HAT")."""
    below_ankle = (f"{stance}_foot",)
    stance_leg = (*below_ankle, f"{stance}_shank", f"{stance}_thigh")
    legs = tuple(f"{s}_{seg}" for s in lm.SIDES for seg in ("thigh", "shank", "foot"))
    return {
        "foot": mass_of(below_ankle) * (_height(xy[:, lm.ANKLE[stance]]) - _height(centre_of_mass(xy, below_ankle))),
        "hip": mass_of(stance_leg) * (_height(xy[:, lm.HIP[stance]]) - _height(centre_of_mass(xy, stance_leg))),
        "trunk": mass_of(legs) * (_height(hip_centre(xy)) - _height(centre_of_mass(xy, legs))),
    }


def segment_rotations(xy: np.ndarray, stance: str, with_pelvis: bool) -> dict[str, np.ndarray]:
    """Rotation (radians, picture plane, + = the top moves to +x) of each link relative to the one below."""
    leg = np.radians(tilt_deg(xy[:, lm.ANKLE[stance]], hip_centre(xy)))
    trunk = np.radians(tilt_deg(hip_centre(xy), shoulder_centre(xy)))
    if not with_pelvis:
        return {"foot": leg, "trunk": trunk - leg}
    # The hip line's angle from horizontal grows by the same rotation as a tilt from vertical when the
    # body turns rigidly, so differences of the three are pure joint motion.
    line = xy[:, lm.HIP["right"]] - xy[:, lm.HIP["left"]]
    line = line if np.nanmean(line[:, 0]) >= 0 else -line
    pelvis = np.arctan2(line[:, 1], line[:, 0])
    return {"foot": leg, "hip": pelvis - leg, "trunk": trunk - pelvis}


def decompose(w: Window, view: str) -> Decomposition:
    """Foot/hip/trunk shares of one trial's centre-of-mass sway along the picture's horizontal axis."""
    arms = moment_arms(w.xy, w.stance)
    rotations = segment_rotations(w.xy, w.stance, with_pelvis=view != "side")
    names = tuple(rotations)
    com = centre_of_mass(w.xy)[:, 0] - w.xy[:, lm.ANKLE[w.stance], 0]
    _, filtered, _ = clean(w.t, np.column_stack([rotations[s] for s in names] + [com]), w.valid, w.fs)
    contributions = {s: arms[s] * (filtered[:, i] - filtered[:, i].mean()) for i, s in enumerate(names)}
    measured = filtered[:, -1] - filtered[:, -1].mean()
    var = float(np.var(measured))

    signed = {s: (float(np.mean(c * measured)) / var if var > 0 else 0.0) for s, c in contributions.items()}
    positive = {s: v for s, v in signed.items() if v > 0}
    total = sum(positive.values())
    shares = {s: v / total for s, v in positive.items()} if total > 0 else {s: 1 / len(names) for s in names}
    ranked = sorted(shares, key=lambda s: -shares[s])
    close = len(ranked) > 1 and shares[ranked[0]] - shares[ranked[1]] <= SHARED_MARGIN
    dominant = "+".join(ranked[:2]) if close else ranked[0]
    resid = measured - sum(contributions.values())
    r2 = 1.0 - float(np.var(resid)) / var if var > 0 else 0.0

    def mpf(x: np.ndarray) -> float | None:
        return round(mean_power_frequency(x, w.fs), 3) if np.ptp(x) > 1e-9 else None

    moving = np.ptp(measured) > 1e-9
    bands = {k: (band_power_fraction(measured, w.fs, lo, hi) if moving else 0.0) for k, (lo, hi) in BANDS.items()}
    freqs = {s: mpf(c) for s, c in contributions.items()} | {"centre_of_mass": mpf(measured)}
    compensating = tuple(s for s, v in signed.items() if v < -COMPENSATING)
    return Decomposition(shares, signed, compensating, dominant, r2, bands, freqs, contributions)
