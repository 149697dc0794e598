"""The pictures say what the numbers say: on real clips, the annotated video's plumb line follows the vertical
the document corrected for, and the foot inset, the tripod map and the report state the tripod's answer with the
document's 95 % interval and rolling, never a crisp point. Geometry and words from the drawing code, checked
against the document; no pixel snapshots.

Clips: P13 (../shared/media, a real knee raise, oblique view, camera roll from the hold) and the 4 s pose_1
clip of sample_videos (front view, so the weight's rolling is measured).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from balance.assess.tripod import headline, middle_band
from balance.pipeline import Analysis
from balance.results import html, plots
from balance.results.annotators import FootInsetAnnotator, roll_note
from balance.results.document import Document, build_document
from balance.results.scene import Scene
from balance.results.text import summary

from .conftest import SAMPLES, analysed

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
P13 = "positive/sls_white_studio_woman_knee_raise_oblique_MAYBE_AI.mp4"


# P13 lives in ../shared/media and has no recorded poses: the pose model runs, so it belongs to the slow tier.
@pytest.fixture(scope="module", params=[pytest.param("P13", marks=pytest.mark.slow), "pose_1"])
def clip(request: pytest.FixtureRequest) -> tuple[Analysis, Document]:
    path = request.getfixturevalue("shared_media") / P13 if request.param == "P13" else POSE_1
    result = analysed(path)
    assert isinstance(result, Analysis), f"{path.name} should analyse: {result}"
    return result, build_document(result)


def _moments(scene: Scene) -> list[float]:
    """A few times inside the first trial's measured window."""
    grid = scene.trials[0].grid
    return list(np.linspace(grid[0], grid[-1], 5))


def test_plumb_line_along_the_documents_vertical(clip: tuple[Analysis, Document]) -> None:
    analysis, doc = clip
    roll = doc.trials[0].metrics.camera_roll
    assert roll is not None and roll.roll_deg != 0.0  # both clips were filmed with the camera rolled
    scene = Scene(analysis)
    for t in _moments(scene):
        at = scene.at(t)
        foot = at.plumb_foot()
        assert np.all(np.isfinite(foot)) and np.all(np.isfinite(at.com))
        # The line from the plumb line's foot up to the centre of mass leans as the true vertical does.
        lean = math.degrees(math.atan2(at.com[0] - foot[0], foot[1] - at.com[1]))
        assert lean == pytest.approx(roll.roll_deg, abs=0.01)
        # ... and ends on the floor line through the stance foot, square to that vertical.
        assert float(np.dot(at.floor_point() - foot, scene.down)) == pytest.approx(0.0, abs=1e-6)
    note = roll_note(scene.at(_moments(scene)[0]))
    assert note == f"camera tilted {abs(roll.roll_deg):.0f} deg: corrected"


def test_foot_inset_draws_the_documents_interval_and_answer(clip: tuple[Analysis, Document]) -> None:
    analysis, doc = clip
    tripod, metrics = doc.trials[0].tripod, doc.trials[0].metrics
    assert tripod.medial_ci95 is not None and tripod.answer is not None and tripod.reason is not None
    lo, hi = tripod.medial_ci95
    scene = Scene(analysis)
    inset = FootInsetAnnotator()
    for t in _moments(scene):
        lay = inset.layout(scene.at(t))
        assert lay is not None
        # The band is the interval, to the pixel (the document rounds to 0.001 foot lengths).
        a, b = lay.band_px((lo, hi))
        assert b - a == pytest.approx((hi - lo) * lay.scale, abs=1 + 0.001 * lay.scale)
        assert lay.lo[1] <= lo and hi <= lay.hi[1]  # the map is wide enough that the band is not cut
        # The big-toe side (+) is on the right for a left foot seen from above.
        right_is_big_toe = lay.x(hi) > lay.x(lo)
        assert right_is_big_toe == (doc.trials[0].stance_leg == "left")
        words = [text for text, _ in lay.lines]
        assert words[0] == headline(tripod.answer, tripod.probabilities)
        if tripod.answer == "cannot_tell":
            # The likeliest place with its chance where the view can weigh them, else "this view cannot tell".
            assert words[0].startswith("most likely ") if tripod.probabilities else words[0] == "this view cannot tell"
        reason = " ".join(words[1:])
        if metrics.view != "front":
            assert reason == f"{metrics.view} view: film from the front" and f"{metrics.view} view" in tripod.reason
        if metrics.camera_roll is not None and metrics.camera_roll.method == "steady_hold":
            assert reason == "no two-leg standing to find the vertical" or metrics.view != "front"
        # The rolling the view can tell, where the document has it, and nothing where it has not.
        expected = None if tripod.cop_roll_95 is None else f"rolls +-{tripod.cop_roll_95:.2f}"
        assert lay.roll_label == expected
        # Every word stays inside the box (the answer is never cut off).
        c = scene.canvas
        assert all(c.text_size(text, k)[0] <= lay.box_w for text, k in lay.lines)


def test_tripod_map_and_report_say_the_same(clip: tuple[Analysis, Document], tmp_path: Path) -> None:
    analysis, doc = clip
    trial = doc.trials[0]
    tripod = trial.tripod
    assert tripod.medial_ci95 is not None and tripod.answer is not None
    lo, hi = tripod.medial_ci95
    series = plots.load_series(plots.series_npz(analysis))
    fig = plots.tripod_figure(trial, series[0], 0)
    assert fig is not None
    ax = fig.axes[0]
    (band,) = ax.findobj(lambda a: a.get_gid() == "ci95")
    mirror = 1.0 if trial.stance_leg == "left" else -1.0
    x0 = band.get_x()
    assert sorted((x0, x0 + band.get_width())) == pytest.approx(sorted((mirror * lo, mirror * hi)), abs=1e-9)
    # No point marks a mean position: the interval is all the figure claims.
    assert not any("mean position" in t.get_text() for t in ax.get_legend().get_texts())
    assert headline(tripod.answer, tripod.probabilities) in ax.get_title()
    rolls = ax.findobj(lambda a: a.get_gid() == "roll")
    assert bool(rolls) == (tripod.cop_roll_95 is not None)
    page = html.report_html(doc, {})
    low, high = middle_band()
    assert f"<strong>{html.esc(headline(tripod.answer, tripod.probabilities))}</strong>" in page
    assert html.esc(tripod.answer_words or "") in page  # the report's words are the summary's
    if tripod.answer == "cannot_tell":
        assert "No tripod split: the answer cannot place the weight" in page and "inner ball" not in page
    assert f"between {lo:+.2f} and {hi:+.2f} foot lengths (95 % interval" in page
    assert f"the middle band is {low:+.2f} to {high:+.2f}" in page
    assert html.esc(tripod.reason) in page
    if tripod.cop_roll_95 is None:
        assert f"not measured in a {trial.metrics.view} view" in page
    else:
        assert f"rolled up to {tripod.cop_roll_95:.2f} foot lengths either side" in page


def test_summary_claims_no_more_than_the_view_allows(clip: tuple[Analysis, Document]) -> None:
    analysis, _ = clip
    tripod = analysis.assessments[0].tripod
    text = summary(analysis)
    assert f"Weight on the foot: {tripod.answer_words()}" in text
    # A front or oblique camera sees the foot end-on: no heel-to-toe figure, and no jitter-only +-0.00 beside it.
    if tripod.less_reliable_axis in ("fore_aft", "both"):
        assert "Heel to toe: this view cannot tell" in text
        assert "foot lengths from the heel" not in text
    assert "from landmark jitter)" not in text
    if tripod.split_known:
        assert "Foot tripod: the body model's estimate, not pressure: inner ball" in text
    else:
        assert "Foot tripod: no split given" in text and "inner ball" not in text
