"""Interpret one measured trial: where the wobble comes from, how the weight sits on the foot's tripod,
which flags apply and the stability score. Pure functions over a trial's landmarks and its SwayMetrics.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from balance.assess.decompose import Decomposition, decompose
from balance.assess.flags import Flag, trial_flags
from balance.assess.score import Score, stability_score
from balance.assess.tripod import TripodEstimate, estimate_tripod
from balance.measure.trial import SwayMetrics, trial_window
from balance.pose.estimate import PoseTrack
from balance.pose.steady import in_picture


@dataclass(frozen=True)
class Assessment:
    decomposition: Decomposition
    tripod: TripodEstimate
    flags: tuple[Flag, ...]
    score: Score

    def to_dict(self) -> dict[str, Any]:
        return {
            "decomposition": self.decomposition.to_dict(),
            "tripod": self.tripod.to_dict(),
            "flags": [f.to_dict() for f in self.flags],
            "score": self.score.to_dict(),
        }


def assess(track: PoseTrack, sway: SwayMetrics) -> Assessment:
    w = trial_window(track, sway.trial, sway.vertical)
    deco = decompose(w, sway.view)
    tripod = estimate_tripod(w, sway.view, sway.vertical, sway.camera.residual_px if sway.camera else 0.0)
    as_filmed = None
    if sway.camera is not None and sway.camera.corrected:
        # The same frames as the camera saw them, before its motion was taken out (for the foot shift's check).
        filmed = replace(track, image_xy=in_picture(sway.camera, track.image_xy))
        as_filmed = trial_window(filmed, sway.trial, sway.vertical)
    flags = trial_flags(w, sway, deco, tripod, as_filmed)
    return Assessment(deco, tripod, flags, stability_score(sway, flags))
