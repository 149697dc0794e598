"""The whole pipeline against clips with a known injected sway (sample_videos/synthetic): amplitude,
correlation, stance leg, where the wobble comes from, and the noise floor of a motionless clip.
"""

from __future__ import annotations

import json

import pytest

from balance.pipeline import Analysis
from benchmarks.validation import compare

from .conftest import SAMPLES, analysed

SYNTHETIC = SAMPLES / "synthetic"
HEIGHT_CM = 165.0


def run(name: str) -> tuple[Analysis, dict]:
    result = analysed(SYNTHETIC / f"{name}.mp4", HEIGHT_CM)
    assert isinstance(result, Analysis), result
    return result, json.loads((SYNTHETIC / f"{name}.truth.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sway_left_clean", "sway_right_clean", "sway_left_noisy"])
def test_injected_sway_is_recovered(name: str) -> None:
    analysis, truth = run(name)
    (trial,) = analysis.trials
    assert trial.trial.stance_leg == truth["stance_leg"]
    assert trial.trial.hold_s == pytest.approx(30.0, abs=0.1)
    com = compare(analysis, truth)["centre_of_mass"]
    # The targets: amplitude within 10 %, correlation at least 0.95 (no lag allowed).
    assert 0.9 <= com.amplitude_ratio <= 1.1, com
    assert com.r >= 0.95, com


@pytest.mark.slow
def test_larger_injected_sway_measures_larger_and_scores_lower() -> None:
    base, _ = run("sway_left_clean")
    large, truth = run("sway_left_large")
    com = compare(large, truth)["centre_of_mass"]
    assert 0.9 <= com.amplitude_ratio <= 1.1, com
    v = [next(m for m in a.trials[0].observed if m.name == "centre_of_mass").mean_velocity for a in (base, large)]
    # Twice the angle: about twice the speed.
    assert 1.7 <= v[1] / v[0] <= 2.3
    assert large.assessments[0].score.value < base.assessments[0].score.value


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sway_left_clean", "sway_right_clean"])
def test_a_rigid_sway_about_the_ankle_is_attributed_to_the_foot(name: str) -> None:
    analysis, _ = run(name)
    deco = analysis.assessments[0].decomposition
    assert deco.dominant == "foot"
    assert deco.shares["foot"] > 0.85
    assert deco.explained_r2 > 0.95


@pytest.mark.slow
def test_noise_floor_of_a_motionless_clip() -> None:
    """Camera noise and compression alone. The issue's target is under 10 % of a healthy one-leg sway
    velocity (0.34 cm/s of the 3.4 cm/s norm); this 426x640 clip measures 0.49-0.55 cm/s (14-16 %, lite and
    full), which benchmarks/README.md reports as missed. The bound here keeps it from getting worse."""
    analysis, _ = run("still_noise_floor")
    com = next(m for m in analysis.trials[0].observed if m.name == "centre_of_mass")
    assert com.mean_velocity < 0.6
    assert not {f.code for f in analysis.assessments[0].flags} & {"wobble", "fast_wobble", "instability"}
