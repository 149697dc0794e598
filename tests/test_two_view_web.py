"""The upload page's optional second camera, in Chromium: the Pose2Sim trial's cam04 as the front view and cam03
as the side view (its poses are recorded), the shortest hold lowered to 1 s for this 1.7 s lab trial; the result
page shows the two-camera section with what `balance analyze CAM04 --side CAM03 --min-trial-s 1` finds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from balance.pipeline import analyze_pair
from balance.results.document import to_json

from .conftest import SAMPLES
from .test_web_browser import browser, serve  # noqa: F401  (browser is a fixture)

CAM03 = SAMPLES / "sls_pose2sim_balancing_cam03.mp4"
CAM04 = SAMPLES / "sls_pose2sim_balancing_cam04.mp4"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("serve-two-view"), "--workers", "1") as (url, _):
        yield url


def test_upload_a_front_and_a_side_view_in_chromium(server: str, browser: Any) -> None:  # noqa: F811
    expected = to_json(analyze_pair(CAM04, CAM03, min_trial_s=1.0))["two_view"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/upload")
    page.set_input_files("#clips", str(CAM04))
    page.click("summary")  # the second camera's fields open
    page.set_input_files("#side", str(CAM03))
    page.fill("#min_trial_s", "1")
    page.click("button[type=submit]")
    page.wait_for_selector("#two-view", timeout=600_000)
    text = page.inner_text("#two-view")
    assert CAM03.name in text and CAM04.name in text
    offset = expected["sync"]
    assert page.inner_text("#offset") == f"{1000 * offset['offset_s']:+.0f} ± {1000 * offset['offset_sd_s']:.0f} ms"
    area = expected["trials"][0]["traces"]["centre_of_mass"]["ellipse_area_95"]
    assert f"{area:.3g}" in page.inner_text("#two-view .ellipse")
    assert page.query_selector("#two-view img[alt^='two-camera stabilogram']") is not None
    page.close()


def test_a_side_view_with_several_front_clips_is_refused(server: str, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    page = browser.new_page()
    page.goto(server + "/upload")
    page.set_input_files("#clips", [str(CAM04), str(CAM03)])
    page.click("summary")
    page.set_input_files("#side", str(CAM03))
    page.click("button[type=submit]")
    page.wait_for_selector("#upload-error:not([hidden]), .error", timeout=60_000)
    assert "a side view pairs with one front view" in page.content()
    page.close()
