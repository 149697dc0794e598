"""The one-page report: a self-contained HTML file (plots embedded, no network) that prints to one or two A4 pages.

`report_html` renders it from a results document and its images; balance.results.folder writes it with the rest.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from balance.assess.catalogue import HOLD_ENDED, NOT_JUDGED, WOBBLE_NOT_JUDGED, flag_words, no_flags
from balance.assess.tripod import headline, middle_band
from balance.results.document import Document, Trial
from balance.results.plots import AXIS_LABEL, TRIPOD_WORDS, UNIT_LABEL

SNAPSHOT = "snapshot.jpg"

PROGRAMME = (
    "The foot-strength programme this test serves: runners with poor control wobble more from the foot, "
    "the hips and the trunk. A steady stance keeps the weight balanced over the foot's tripod (the outside "
    "of the ball of the foot, the inside of the ball and the end of the big toe), centred in the forefoot, "
    "and both sides should be equal. Four to six weeks of foot exercises should show improvement: test "
    "again then, in the same way, and compare."
)
NOT_AVAILABLE = '<span class="na">not available</span>'
CSS = """
:root { --ink: #1d2a30; --muted: #5b6b73; --line: #d8dee2; --accent: #2a9d8f; --flag: #e76f51; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 960px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 2px; }
h2 { font-size: 1.15em; margin: 18px 0 6px; border-bottom: 2px solid var(--accent); padding-bottom: 2px; }
h3 { font-size: 1em; margin: 0 0 4px; }
.meta { color: var(--muted); margin: 0 0 8px; }
.trials { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; break-inside: avoid; }
.card table { border-collapse: collapse; width: 100%; }
.card th { text-align: left; font-weight: 600; vertical-align: top; padding: 2px 8px 2px 0; width: 34%;
           color: var(--muted); }
.card td { padding: 2px 0; vertical-align: top; }
.big { font-size: 1.25em; font-weight: 700; }
.na { color: var(--muted); font-style: italic; }
ul.flags { margin: 0; padding-left: 1.1em; }
ul.flags li::marker { color: var(--flag); }
figure { margin: 8px 0; break-inside: avoid; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 0.85em; }
.sways { display: grid; gap: 8px; }
.row { display: flex; flex-wrap: wrap; gap: 8px; justify-content: center; align-items: flex-start; }
.row figure { flex: 1 1 280px; }
.meaning dt { font-weight: 700; margin-top: 6px; }
.meaning dd { margin: 0 0 0 1em; }
.method { font-size: 0.8em; color: var(--muted); columns: 2 320px; column-gap: 20px; }
.method dt { font-weight: 600; color: var(--ink); }
.method dd { margin: 0 0 4px; }
footer { margin-top: 12px; font-size: 0.75em; color: var(--muted); }
@page { size: A4; margin: 9mm 10mm; }
@media print {
  body { font-size: 8.5pt; line-height: 1.3; max-width: none; padding: 0; }
  h1 { font-size: 15pt; }
  h2 { margin-top: 6px; font-size: 10.5pt; }
  .card { padding: 3px 6px; }
  .card th { width: 22%; }
  figure { margin: 2px 0; }
  figcaption { font-size: 6.5pt; line-height: 1.2; }
  figure.sway img { max-height: 84mm; }
  .sways.two { grid-template-columns: 1fr 1fr; }
  .row figure { flex: 1 1 28%; min-width: 0; max-width: 34%; }
  .row figure img { max-height: 54mm; }
  figure.wide img { max-height: 42mm; }
  figure.shares img { max-height: 32mm; }
  .method { font-size: 6.5pt; line-height: 1.2; columns: 3; column-gap: 12px; }
  details.definitions { display: none; }
  p { margin: 3px 0; }
  .meaning dt { margin-top: 2px; }
  footer { margin-top: 4px; }
  a { color: inherit; text-decoration: none; }
}
h2, h3 { break-after: avoid; }
details.definitions { font-size: 0.8em; color: var(--muted); margin-top: 6px; }
"""


# --- small formatting helpers --------------------------------------------------------------------------


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _img(png_or_jpeg: bytes, alt: str, mime: str = "image/png") -> str:
    data = base64.b64encode(png_or_jpeg).decode("ascii")
    return f'<img src="data:{mime};base64,{data}" alt="{esc(alt)}">'


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


# --- headline per trial --------------------------------------------------------------------------------


def _hold(trial: Trial) -> str:
    text = f'<span class="big">{trial.hold_s:.1f} s</span>'
    if trial.starts_with_clip:
        text += " (on one leg from the clip's start: at least this long)"
    else:
        text += f" from lift-off at {trial.lift_off_s:.1f} s"
    ended = HOLD_ENDED.get(trial.ended_by)
    return text + (f", {ended}" if ended else "")


def _score(trial: Trial) -> str:
    score = trial.score
    if not score.judged:
        return f"not judged: {esc(NOT_JUDGED)}"
    return (
        f'<span class="big">{score.value:.0f}</span> / 100 (minimal detectable change {score.mdc:.1f}: only a '
        "bigger change between two tests is real)"
    )


def _wobble(trial: Trial) -> str:
    dec = trial.decomposition
    parts = ", ".join(f"{esc(k)} {_pct(v)}" for k, v in dec.shares.items())
    summary = dec.summary if trial.score.judged else WOBBLE_NOT_JUDGED
    text = esc(summary) + (f" <br>Shares: {parts}." if parts else "")
    bands = dec.bands
    return (
        f"{text} <br>Rhythm: {_pct(bands.drift)} slow drift (&lt;0.5 Hz), {_pct(bands.corrective)} "
        f"corrective (0.5-2 Hz), {_pct(bands.fast_wobble)} fast wobble (&gt;2 Hz)."
    )


def _tripod(trial: Trial) -> str:
    """The programme's question answered as the document answers it (the same words as the summary and the
    result page: tripod.answer_words), with the interval against the middle band and how far the weight rolls;
    the three-point split only where the answer places the weight."""
    tripod = trial.tripod
    if tripod.answer is None or tripod.medial_ci95 is None:  # documents written before the answer existed
        return "not available in this older result <em>(analyse the clip again)</em>"
    lo, hi = tripod.medial_ci95
    low, high = middle_band()
    head = headline(tripod.answer, tripod.probabilities)
    text = (
        f"<strong>{esc(head)}</strong>: {esc(tripod.answer_words or tripod.reason or '')}. <br>Side to side: the "
        f"mean lies between {lo:+.2f} and {hi:+.2f} foot lengths (95 % interval of this measurement; + towards the "
        f"big toe; the middle band is {low:+.2f} to {high:+.2f})."
    )
    if tripod.cop_roll_95 is not None:
        text += (
            f" <br>Rolling: the weight rolled up to {tripod.cop_roll_95:.2f} foot lengths either side of its mean "
            "(centre of pressure from the inverted pendulum; this the view can tell)."
        )
    else:
        text += f" <br>Rolling: not measured in a {esc(trial.metrics.view)} view (front view only)."
    if tripod.split is None or tripod.split_sd is None:
        return (
            text
            + " <br><small>No tripod split: the answer cannot place the weight, so a split would be a guess.</small>"
        )
    split = ", ".join(
        f"{words} {_pct(getattr(tripod.split, key))} +- {_pct(1.96 * getattr(tripod.split_sd, key))}"
        for key, words in TRIPOD_WORDS.items()
    )
    return text + (
        f" <br><small>Tripod split (95 %): {split}. Estimate from body geometry, not a pressure measurement.</small>"
    )


def _flags(trial: Trial) -> str:
    if not trial.flags:
        return f"none{esc(no_flags(trial.score.judged))}"
    return '<ul class="flags">' + "".join(f"<li>{esc(f.text)}</li>" for f in trial.flags) + "</ul>"


def _sway(trial: Trial) -> str:
    metrics = trial.metrics
    unit = esc(UNIT_LABEL.get(metrics.unit, metrics.unit))
    com = metrics.observed.get("centre_of_mass")
    if com is None:
        return NOT_AVAILABLE
    text = f"centre of mass {com.mean_velocity:.2f} {unit}/s mean velocity, RMS {com.rms[0]:.2f} {unit}"
    lean = metrics.angles.get("trunk_lean")
    if lean is not None:
        text += f"; trunk lean RMS {lean.rms[0]:.1f} deg"
    axis = AXIS_LABEL.get(metrics.horizontal_axis, "across the picture")
    when = f"measured {metrics.analysed_from_s:.1f}-{metrics.analysed_to_s:.1f} s"
    return f"{text} <br><small>{esc(axis)} ({esc(metrics.view)} view), {when}</small>"


def _card(trial: Trial, k: int) -> str:
    rows = (
        ("Hold time", _hold(trial)),
        ("Stability score", _score(trial)),
        ("Where the wobble comes from", _wobble(trial)),
        ("Foot tripod", _tripod(trial)),
        ("Flags", _flags(trial)),
        ("Sway", _sway(trial)),
    )
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    leg = esc(trial.stance_leg)
    return f'<div class="card"><h3>Trial {k + 1}: standing on the {leg} leg</h3><table>{body}</table></div>'


def _session(doc: Document) -> str:
    """Flags about the two legs together (left/right asymmetry)."""
    items = "".join(f"<li>{esc(f.text)}</li>" for f in doc.session_flags)
    return f'<p><strong>Both legs:</strong></p><ul class="flags">{items}</ul>' if items else ""


def _two_view(doc: Document, images: Mapping[str, bytes]) -> str:
    """Two cameras: how the clips were paired and lined up, and each fused hold's 2-D stabilogram."""
    tv = doc.two_view
    if tv is None:
        return ""
    p, sync = tv.pairing, tv.sync
    head = (
        f"<p>Front view (side to side): {esc(Path(doc.clip.path).name)}; side view (forward-backward): "
        f"{esc(Path(tv.side_clip.path).name)}; the cameras are {p.separation_deg:.0f} ± {p.separation_sd_deg:.0f}° "
        f"apart (90° is at right angles). The side clip runs {1000 * sync.offset_s:+.0f} ± "
        f"{1000 * sync.offset_sd_s:.0f} ms from the front clip, found from the movement itself (r = "
        f"{sync.peak_r:.2f}).</p>"
    )
    cards = []
    for t in tv.trials:
        com = t.traces["centre_of_mass"]
        unit = esc(t.unit)
        rows = (
            ("Seen by both", f"{t.analysed_from_s:.2f}-{t.analysed_to_s:.2f} s"),
            ("95 % ellipse", f"{com.ellipse_area_95 or 0:.3g} ± {t.ellipse_area_offset_sd:.2g} {unit}²"),
            ("Mean velocity", f"{com.mean_velocity:.3g} {unit}/s, path {com.path_length:.3g} {unit}"),
            ("RMS ml / ap", f"{com.rms[0]:.3g} / {com.rms[1]:.3g} {unit}"),
            ("Side to side", esc(t.tripod.medial.words)),
            ("Heel to toe", esc(t.tripod.fore_aft.words)),
        )
        body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
        n = t.front_trial + 1
        figure = _figure(
            images,
            f"stabilogram2d_trial{n}.png",
            f"two-camera stabilogram, trial {n}",
            f"Trial {n}: the centre of mass seen from above, both axes measured (side to side by the front "
            "camera, forward-backward by the side camera), to scale; red: 95 % prediction ellipse.",
        )
        cards.append(
            f'<div class="card"><h3>Trial {n}, two cameras: {esc(t.stance_leg)} leg</h3><table>{body}</table>'
            f"{figure}</div>"
        )
    notes = "".join(f"<li>{esc(n)}</li>" for n in tv.notes)
    return (
        f'<section class="two-view"><h2>Two cameras</h2>{head}<div class="trials">{"".join(cards)}</div>'
        + (f'<ul class="flags">{notes}</ul>' if notes else "")
        + "</section>"
    )


# --- the sections --------------------------------------------------------------------------------------


def _figure(images: Mapping[str, bytes], name: str, alt: str, caption: str, cls: str = "") -> str:
    if name not in images:
        return ""
    mime = "image/jpeg" if name.endswith(".jpg") else "image/png"
    klass = f' class="{cls}"' if cls else ""
    return f"<figure{klass}>{_img(images[name], alt, mime)}<figcaption>{caption}</figcaption></figure>"


def _figures(images: Mapping[str, bytes], trials: Sequence[Trial]) -> str:
    """Sway over time for every trial, then the small per-trial maps and the video still, then the
    comparisons. Two trials print side by side, so a left-and-right session still fits two pages."""
    sways, small = [], []
    for k, trial in enumerate(trials):
        n, leg = k + 1, esc(trial.stance_leg)
        sways.append(
            _figure(
                images,
                f"sway_trial{n}.png",
                f"sway over time, trial {n}",
                f"Trial {n} ({leg} leg): sway of the foot, hip, trunk and whole body over time, relative to the "
                "stance ankle; dashed: pelvic tilt and trunk lean in degrees.",
                "sway",
            )
        )
        small.append(
            _figure(
                images,
                f"stabilogram_trial{n}.png",
                f"stabilogram, trial {n}",
                f"Trial {n}: centre of mass seen from above, the camera's axis measured, the depth axis "
                "estimated; red: 95 % prediction ellipse.",
            )
        )
        small.append(
            _figure(
                images,
                f"tripod_trial{n}.png",
                f"tripod map, trial {n}",
                f"Trial {n}: the tripod's answer over the foot: red band, the 95 % interval of the weight's "
                "mean side-to-side position (one camera places it no more finely); dotted, the middle band that "
                '"centred" means; black bar, how far the weight rolled either side (front view).',
            )
        )
    small.append(
        _figure(
            images,
            SNAPSHOT,
            "a frame of the annotated video",
            "A frame of the annotated video: stance leg in yellow, centre of mass with its plumb line, base of "
            "support in green.",
        )
    )
    wide = [
        _figure(
            images,
            "segment_shares.png",
            "segment shares",
            "How much of each trial's sway came from the foot, the hip and the trunk.",
            "wide shares",
        ),
        _figure(
            images,
            "left_vs_right.png",
            "left vs right",
            "Left and right leg side by side: both sides should be equal.",
            "wide",
        ),
    ]
    columns = "two" if sum(bool(f) for f in sways) >= 2 else "one"
    return f'<div class="sways {columns}">{"".join(sways)}</div><div class="row">{"".join(small)}</div>{"".join(wide)}'


def _meaning(doc: Document) -> str:
    flags = [f for t in doc.trials for f in t.flags] + list(doc.session_flags)
    items = []
    for code in dict.fromkeys(f.code for f in flags):
        words = flag_words(code)
        items.append(f"<dt>{esc(words.title)}</dt><dd>{esc(words.advice)}</dd>")
    if not items:
        items.append(
            "<dt>No flags</dt><dd>Steady, level and balanced: keep going with the programme and test again in "
            "four to six weeks.</dd>"
        )
    return f'<dl class="meaning">{"".join(items)}</dl><p>{esc(PROGRAMME)}</p>'


def _method(doc: Document, video_note: str | None) -> str:
    conv = doc.conventions
    rows: list[tuple[str, Any]] = [
        (
            "What the numbers are",
            "Kinematic measurements from body landmarks found by a pose model in the video, not force-plate "
            "centre-of-pressure values. Anything labelled estimate (the depth axis, the tripod weighting) is "
            "inferred, not seen.",
        )
    ]
    words = {
        "signal_processing": "Filter",
        "reference_point": "Reference point",
        "units": "Units",
        "observed": "Measured axis",
        "depth_estimates": "Depth axis",
        "sides": "Sides",
        "stance_leg": "Stance leg",
    }
    rows += [(label, conv[key]) for key, label in words.items() if conv.get(key)]
    if isinstance(conv.get("min_trial_s"), int | float):
        rows.append(("Trials", f"at least {conv['min_trial_s']:g} s on one leg; sway measured after settling"))
    if doc.trials:
        first = doc.trials[0]
        rows += [
            ("Wobble decomposition", first.decomposition.method),
            ("Tripod estimate", first.tripod.estimate),
            ("Stability score", first.score.formula),
            ("Minimal detectable change", first.score.mdc_note),
        ]
    rows += [("Note", n) for n in doc.notes]
    rows += [
        (
            "Short phase",
            f"{p.duration_s:.1f} s on the {p.stance_leg} leg at {p.start_s:.1f} s: shorter than a trial, not scored",
        )
        for p in doc.short_phases
    ]
    if video_note:
        rows.append(("Annotated video", video_note))
    # The metric definitions are long and live in analysis.json too: folded on screen, left out of the print.
    metrics = [(key[7:].replace("_", " "), v) for key, v in conv.items() if key.startswith("metric_")]
    return _dl("method", rows) + (
        f'<details class="definitions"><summary>Metric definitions</summary>{_dl("method", metrics)}</details>'
        if metrics
        else ""
    )


def _dl(cls: str, rows: Sequence[tuple[str, Any]]) -> str:
    return f'<dl class="{cls}">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows) + "</dl>"


def _source(doc: Document) -> str:
    return esc(
        f"Made by {doc.tool.name} {doc.tool.version} (pose model {doc.model.name}) from the video alone, clip "
        f"SHA-256 {doc.clip.sha256[:16]}...; no data left this computer."
    )


def report_html(
    doc: Document,
    images: Mapping[str, bytes],
    *,
    name: str | None = None,
    video: str | None = None,
    video_note: str | None = None,
    today: date | None = None,
) -> str:
    """The report page of a results document and its images by file name (plots.draw_all)."""
    trials = doc.trials
    who = f"{esc(name)} · " if name else ""
    clip_words = f"{esc(Path(doc.clip.path).name)}, {doc.clip.duration_s:.1f} s"
    link = f' · <a href="{esc(video)}">annotated video</a>' if video else ""
    plots = (
        _figures(images, trials)
        if images
        else '<p class="na">Plots not available (no series.npz with the results).</p>'
    )
    title = f"Single-leg balance{': ' + esc(name) if name else ''}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{title}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{title}</h1>"
        f'<p class="meta">{who}{(today or date.today()).isoformat()} · {clip_words}{link}</p></header>'
        f'<section><div class="trials">{"".join(_card(t, k) for k, t in enumerate(trials))}</div>'
        f"{_session(doc)}</section>"
        f"{_two_view(doc, images)}"
        f"<section><h2>Plots</h2>{plots}</section>"
        f"<section><h2>What this means</h2>{_meaning(doc)}</section>"
        f"<section><h2>Method notes</h2>{_method(doc, video_note)}</section>"
        f"<footer>{_source(doc)}</footer>"
        "</body></html>\n"
    )
