"""The one-page report: self-contained, carries the headline numbers, re-renders from saved results, and
renders in headless Chromium with every image loaded on at most two A4 pages (skipped without Chromium).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib import image as mpimg

from balance.assess.catalogue import NOT_JUDGED, WOBBLE_NOT_JUDGED, flag_words, reported_value
from balance.errors import ResultsError
from balance.pipeline import Analysis
from balance.results import folder
from balance.results.document import Flag, build_document, json_text, load_document
from balance.results.folder import render_report, write_results
from balance.results.html import report_html

from .conftest import SAMPLES, analysed
from .test_files import tiny_disk as full_disk_fixture

tiny_disk = full_disk_fixture
POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"
NAME = "Sam O'Neil <test> & co"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (scripts/install_chromium.sh): report not rendered in a browser"
)


class _Refs(HTMLParser):
    """Every src and href of a page, and the images."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("src", "href") and value is not None:
                self.refs.append(value)
                if tag == "img":
                    self.images.append(value)


def _refs(page: str) -> _Refs:
    parser = _Refs()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], dict[str, Any]]:
    analysis = analysed(POSE_1)
    if not isinstance(analysis, Analysis):
        pytest.fail(f"{POSE_1.name} should analyse: {analysis}")
    out = tmp_path_factory.mktemp("results")
    # What `balance analyze --out` does.
    written = write_results(analysis, out, name=NAME)
    return out, list(written.files), json.loads((out / "analysis.json").read_text())


@pytest.mark.slow
def test_writes_everything_and_nothing_half_done(results: tuple[Path, list[Path], dict[str, Any]]) -> None:
    out, written, _ = results
    names = {p.name for p in written}
    assert names == {
        "analysis.json",
        "frames.csv",
        "report.html",
        "annotated.mp4",
        "series.npz",
        "snapshot.jpg",
        "sway_trial1.png",
        "stabilogram_trial1.png",
        "tripod_trial1.png",
        "segment_shares.png",
    }
    assert all(p.parent == out and p.stat().st_size > 0 for p in written)
    assert not [p for p in out.iterdir() if "partial" in p.name or p.name.startswith(".")]


@pytest.mark.slow
def test_self_contained(results: tuple[Path, list[Path], dict[str, Any]]) -> None:
    out, _, _ = results
    page = (out / "report.html").read_text()
    refs = _refs(page)
    assert not [r for r in refs.refs if r.lower().startswith(("http:", "https:", "//", "file:"))]
    text = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"(?i)https?://|url\(|@import|<script|<link|<iframe", text)
    # The only link is the annotated video beside the report; every image is inline.
    assert [r for r in refs.refs if not r.startswith("data:")] == ["annotated.mp4"]
    assert len(refs.images) == 5
    for src in refs.images:
        match = re.fullmatch(r"data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=]+)", src)
        assert match is not None, src[:40]
        mime, data = match.groups()
        image = mpimg.imread(io.BytesIO(base64.b64decode(data)), format=mime.split("/")[1])
        assert image.shape[0] > 100 and image.shape[1] > 100 and np.std(image) > 0.02


@pytest.mark.slow
def test_headline_numbers_and_words(results: tuple[Path, list[Path], dict[str, Any]]) -> None:
    out, _, doc = results
    page = (out / "report.html").read_text()
    trial = doc["trials"][0]
    assert html.escape(NAME, quote=True) in page and NAME not in page
    assert f"{trial['hold_s']:.1f} s" in page
    assert f'<span class="big">{trial["score"]["value"]:.0f}</span> / 100' in page
    assert f"minimal detectable change {trial['score']['mdc']:.1f}" in page
    assert html.escape(trial["decomposition"]["summary"], quote=True) in page
    split = trial["tripod"]["split"]
    if split is None:  # the answer cannot place the weight: the page shows no split
        assert "No tripod split" in page and "inner ball" not in page
    else:
        assert f"inner ball {100 * split['inner_ball']:.0f} %" in page
    com = trial["metrics"]["observed"]["centre_of_mass"]
    assert f"{com['mean_velocity']:.2f} % leg length/s" in page
    for flag in trial["flags"]:
        assert html.escape(flag["text"], quote=True) in page
        title = flag_words(flag["code"]).title
        assert f"<dt>{html.escape(title)}</dt>" in page
    for text in (doc["conventions"]["signal_processing"], doc["conventions"]["depth_estimates"]):
        assert html.escape(text, quote=True) in page
    assert "estimate" in page and "not available" not in page


@pytest.mark.slow
def test_both_legs_flags_and_untrusted_text() -> None:
    analysis = analysed(POSE_1)
    assert isinstance(analysis, Analysis)
    doc = build_document(analysis)
    left = dataclasses.replace(doc.trials[0], stance_leg="left", hold_s=30.0)
    right = dataclasses.replace(doc.trials[0], stance_leg="right", hold_s=12.0)
    # The clip itself raises no flag: the session's asymmetry flag is written here as the tool writes one.
    text = "Sides differ: <b>hold</b> 12 s vs 30 s"
    sides = Flag("asymmetry", text, 0.4, 0.9, "limb symmetry index", "Grindem et al. 2016", (), False)
    doc = dataclasses.replace(
        doc,
        trials=(left, right),
        session_flags=(sides,),
        clip=dataclasses.replace(doc.clip, path="/x/<clip>.mp4", duration_s=45.0),
    )
    page = report_html(doc, {}, name="<script>")
    assert "<strong>Both legs:</strong>" in page
    assert "Sides differ: &lt;b&gt;hold&lt;/b&gt; 12 s vs 30 s" in page
    assert f"<dt>{flag_words('asymmetry').title}</dt>" in page
    assert "&lt;clip&gt;.mp4" in page and "<script>" not in page and "<b>" not in page
    assert "30.0 s" in page and "12.0 s" in page
    assert "<img" not in page and "Plots not available" in page


@pytest.mark.slow
def test_a_score_not_judged_is_said_so_and_kept_out_of_the_history() -> None:
    """Where the picture moved and nothing showed how, the report gives no score, and the number stays out of the
    history and the batch summary (reported_value), though the JSON keeps it for reference."""
    analysis = analysed(POSE_1)
    assert isinstance(analysis, Analysis)
    doc = build_document(analysis)
    (trial,) = doc.trials
    moved = dataclasses.replace(trial, score=dataclasses.replace(trial.score, judged=False))
    page = report_html(dataclasses.replace(doc, trials=(moved,)), {})
    assert f"not judged: {html.escape(NOT_JUDGED)}" in page
    assert f'<span class="big">{trial.score.value:.0f}</span> / 100' not in page
    assert not trial.flags  # the premise: a steady hold, which the page no longer calls steady
    assert "none, but the sway itself was not judged (the picture moved)" in page
    assert "steady, level and balanced" not in page and "steady, level and balanced" in report_html(doc, {})
    assert WOBBLE_NOT_JUDGED in page and trial.decomposition.summary not in page
    assert f'<span class="big">{trial.score.value:.0f}</span> / 100' in report_html(doc, {})
    as_json = json.loads(json_text(dataclasses.replace(doc, trials=(moved,)).to_json()))["trials"][0]["score"]
    assert as_json["judged"] is False and as_json["value"] == pytest.approx(trial.score.value, abs=0.05)
    assert reported_value(as_json) is None
    assert reported_value({**as_json, "judged": True}) == as_json["value"]


@pytest.mark.slow
def test_re_render_from_the_saved_results(results: tuple[Path, list[Path], dict[str, Any]], tmp_path: Path) -> None:
    out, _, _ = results
    doc = load_document(out / "analysis.json")
    again = render_report(doc, out / "again.html", plots_dir=out)
    try:
        first, second = (out / "report.html").read_text(), again.read_text()
        # The same images (plots redrawn from series.npz, the snapshot read back) and the same video link.
        assert sorted(_refs(first).refs) == sorted(_refs(second).refs)
    finally:
        again.unlink()
    bare = render_report(doc, tmp_path / "report.html", plots_dir=None)
    assert "<img" not in bare.read_text() and "annotated.mp4" not in bare.read_text()


@pytest.mark.slow
def test_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    analysis = analysed(POSE_1)
    assert isinstance(analysis, Analysis)
    (tmp_path / "report.html").write_text("earlier result")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("encoder died")

    monkeypatch.setattr(folder, "encode_annotated", broken)
    with pytest.raises(ResultsError, match="encoder died"):
        write_results(analysis, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert (tmp_path / "report.html").read_text() == "earlier result"
    blocked = tmp_path / "file"
    blocked.write_text("")
    with pytest.raises(ResultsError, match="cannot write"):
        write_results(analysis, blocked / "sub")


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@needs_chromium
def test_chromium_screenshot_is_not_blank(results: tuple[Path, list[Path], dict[str, Any]], tmp_path: Path) -> None:
    out, _, _ = results
    shot = tmp_path / "shot.png"
    _chromium(
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1000,2400",
        f"--screenshot={shot}",
        (out / "report.html").as_uri(),
    )
    image = mpimg.imread(shot)[..., :3].mean(axis=2)
    assert image.shape == (2400, 1000)
    assert image.std() > 0.1
    # Text, plots and the video still: a good part of the page is drawn on.
    assert (image < 0.85).mean() > 0.08
    # The plots are below the headline: the lower half is not empty either.
    assert (image[1200:] < 0.85).mean() > 0.05


@pytest.mark.slow
@needs_chromium
def test_chromium_loads_every_image(results: tuple[Path, list[Path], dict[str, Any]], tmp_path: Path) -> None:
    out, _, _ = results
    probe = (
        "<script>window.addEventListener('load', () => { const imgs = [...document.images];"
        "document.body.dataset.images = imgs.length;"
        "document.body.dataset.broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length; });"
        "</script></body>"
    )
    page = (out / "report.html").read_text().replace("</body>", probe)
    # The probe must see a broken image, or its "0 broken" below would prove nothing.
    broken_copy = re.sub(r'src="data:image/png;base64,[^"]+"', 'src="data:image/png;base64,AAAA"', page, count=1)
    counts = []
    for k, text in enumerate((page, broken_copy)):
        path = tmp_path / f"probe{k}.html"
        path.write_text(text)
        dom = _chromium(
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom", path.as_uri()
        ).stdout
        found = dict(re.findall(r'data-(images|broken)="(\d+)"', dom))
        counts.append((int(found["images"]), int(found["broken"])))
    assert counts == [(5, 0), (5, 1)]


@pytest.mark.slow
@needs_chromium
def test_prints_on_two_a4_pages_at_most(results: tuple[Path, list[Path], dict[str, Any]], tmp_path: Path) -> None:
    out, _, _ = results
    pdf = tmp_path / "report.pdf"
    _chromium(
        f"--user-data-dir={tmp_path / 'profile'}",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        (out / "report.html").as_uri(),
    )
    data = pdf.read_bytes()
    pages = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert 1 <= len(re.findall(rb"/Type\s*/Page\b", data)) <= 2
    assert pages and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in pages)


@pytest.mark.slow
def test_a_full_disk_keeps_the_earlier_result(tiny_disk: Path) -> None:
    analysis = analysed(POSE_1)
    assert isinstance(analysis, Analysis)
    (tiny_disk / "analysis.json").write_text("earlier result")
    # The results (about 0.7 MB without the video) are larger than the 256 kiB disk.
    with pytest.raises(ResultsError, match="No space left on device"):
        write_results(analysis, tiny_disk, video=False)
    assert [p.name for p in tiny_disk.iterdir()] == ["analysis.json"]
    assert (tiny_disk / "analysis.json").read_text() == "earlier result"
