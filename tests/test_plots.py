"""The figures: drawn from the results document plus series.npz alone, every expected PNG present, sized and not blank.

Also the traces file round trip and the prediction ellipse against the metric's own area.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math

import numpy as np
import pytest
from matplotlib import image as mpimg

from balance.pipeline import Analysis
from balance.results import plots
from balance.results.document import Document, build_document, from_json, json_text

from .conftest import SAMPLES, analysed

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
KIND = {"sway": "sway", "stabilogram": "stabilogram", "tripod": "tripod", "segment": "shares", "left": "left_right"}


@pytest.fixture(scope="module")
def pose1() -> tuple[Analysis, Document, list[dict[str, np.ndarray]]]:
    analysis = analysed(POSE_1)
    if not isinstance(analysis, Analysis):
        pytest.fail(f"{POSE_1.name} should analyse: {analysis}")
    # Through JSON text, as `balance report` reads it back from analysis.json.
    doc = from_json(json.loads(json_text(build_document(analysis).to_json())))
    return analysis, doc, plots.load_series(plots.series_npz(analysis))


def _check_png(name: str, png: bytes) -> None:
    image = mpimg.imread(io.BytesIO(png), format="png")
    w, h = plots.SIZES[KIND[name.split("_")[0]]]
    assert image.shape[:2] == (round(h * plots.DPI), round(w * plots.DPI)), name
    grey = image[..., :3].mean(axis=2)
    assert grey.std() > 0.05, f"{name} is blank"
    assert (grey < 0.9).mean() > 0.01, f"{name} has almost nothing drawn"


@pytest.mark.slow
def test_series_file_holds_every_trace(pose1: tuple[Analysis, Document, list[dict[str, np.ndarray]]]) -> None:
    analysis, _, series = pose1
    assert len(series) == len(analysis.trials)
    for m, s in zip(analysis.trials, series, strict=True):
        np.testing.assert_array_equal(s["grid"], m.grid)
        for name, values in m.series.items():
            np.testing.assert_array_equal(s[name], values)
        assert s["tripod_projection"].shape == (len(m.grid), 2)


def test_series_file_rejects_other_npz() -> None:
    buf = io.BytesIO()
    np.savez(buf, x=np.zeros(3))
    with pytest.raises(ValueError, match="balance-series"):
        plots.load_series(buf.getvalue())


@pytest.mark.slow
def test_every_figure_of_a_one_leg_clip(pose1: tuple[Analysis, Document, list[dict[str, np.ndarray]]]) -> None:
    _, doc, series = pose1
    pngs = plots.draw_all(doc, series)
    assert set(pngs) == {"sway_trial1.png", "stabilogram_trial1.png", "tripod_trial1.png", "segment_shares.png"}
    for name, png in pngs.items():
        _check_png(name, png)


@pytest.mark.slow
def test_figures_need_only_the_json_and_the_series(
    pose1: tuple[Analysis, Document, list[dict[str, np.ndarray]]],
) -> None:
    analysis, doc, series = pose1
    # Same bytes from the in-memory document and from its JSON text: nothing else is read.
    assert plots.draw_all(build_document(analysis), series) == plots.draw_all(doc, series)


@pytest.mark.slow
def test_left_and_right_side_by_side(pose1: tuple[Analysis, Document, list[dict[str, np.ndarray]]]) -> None:
    _, doc, series = pose1
    right = dataclasses.replace(doc.trials[0], stance_leg="right", hold_s=2.0)
    two = dataclasses.replace(doc, trials=(*doc.trials, right))
    pngs = plots.draw_all(two, [*series, series[0]])
    assert {"left_vs_right.png", "sway_trial2.png", "tripod_trial2.png"} <= set(pngs)
    _check_png("left_vs_right.png", pngs["left_vs_right.png"])


@pytest.mark.slow
def test_figures_whose_traces_are_missing_are_left_out(
    pose1: tuple[Analysis, Document, list[dict[str, np.ndarray]]],
) -> None:
    _, doc, series = pose1
    bare = [{k: v for k, v in s.items() if k not in ("tripod_projection", "centre_of_mass_depth")} for s in series]
    pngs = plots.draw_all(doc, bare)
    assert set(pngs) == {"sway_trial1.png", "segment_shares.png"}
    # A trial without its traces is skipped, not an error; the shares need only the JSON.
    assert set(plots.draw_all(doc, [])) == {"segment_shares.png"}


@pytest.mark.slow
def test_ellipse_is_the_metric_s_ellipse(pose1: tuple[Analysis, Document, list[dict[str, np.ndarray]]]) -> None:
    _, doc, series = pose1
    xy = np.column_stack([series[0]["centre_of_mass"], series[0]["centre_of_mass_depth"]])
    _, width, height, _ = plots.prediction_ellipse(xy)
    expected = doc.trials[0].metrics.depth_estimates["centre_of_mass"].ellipse_area_95
    assert math.pi * width * height / 4 == pytest.approx(expected, rel=1e-9)


def test_ellipse_axes_follow_the_covariance() -> None:
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(4000, 2)) * [3.0, 1.0]
    centre, width, height, angle = plots.prediction_ellipse(xy)
    assert np.allclose(centre, 0, atol=0.2)
    # 95 % of a normal sample: 2 x sqrt(chi2(0.95, 2)) = 4.9 SDs across.
    assert width == pytest.approx(2 * 3.0 * math.sqrt(5.991), rel=0.05)
    assert height == pytest.approx(2 * 1.0 * math.sqrt(5.991), rel=0.05)
    assert min(abs(angle), abs(abs(angle) - 180)) < 3
