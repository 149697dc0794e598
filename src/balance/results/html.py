"""The one-page report: a self-contained HTML file (plots embedded, no network) that prints to one or two A4 pages.

`write_visuals` writes it with its plots, traces and annotated video; `render_report` redraws it from saved results.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from balance.assess.catalogue import flag_words
from balance.errors import ResultsError
from balance.files import staged
from balance.pipeline import Analysis
from balance.results.document import to_json, write_outputs
from balance.results.plots import AXIS_LABEL, UNIT_LABEL, draw_all, issue4, load_series, series_npz
from balance.results.video import Encoded, encode_annotated, flags_from_doc

REPORT = "report.html"
VIDEO = "annotated.mp4"
SERIES = "series.npz"
SNAPSHOT = "snapshot.jpg"
# The report's still from the annotated video: small enough to embed (a few hundred kB as JPEG).
SNAPSHOT_MAX_PX = 720

PROGRAMME = (
    "The foot-strength programme this test serves: runners with poor control wobble more from the foot, "
    "the hips and the trunk. A steady stance keeps the weight balanced over the foot's tripod (the outside "
    "of the ball of the foot, the inside of the ball and the end of the big toe), centred in the forefoot, "
    "and both sides should be equal. Four to six weeks of foot exercises should show improvement: test "
    "again then, in the same way, and compare."
)
NOT_AVAILABLE = '<span class="na">not available</span>'
ENDED = {
    "touch_down": "until the free foot touched down",
    "clip_end": "until the clip ended",
    "subject_lost": "until the person left the picture",
}
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


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _img(png_or_jpeg: bytes, alt: str, mime: str = "image/png") -> str:
    data = base64.b64encode(png_or_jpeg).decode("ascii")
    return f'<img src="data:{mime};base64,{data}" alt="{esc(alt)}">'


def _pct(value: Any) -> str:
    v = _num(value)
    return f"{100 * v:.0f} %" if v is not None else "?"


# --- headline per trial --------------------------------------------------------------------------------


def _hold(trial: Mapping[str, Any]) -> str:
    hold = _num(trial.get("hold_s"))
    if hold is None:
        return NOT_AVAILABLE
    text = f'<span class="big">{hold:.1f} s</span>'
    if trial.get("starts_with_clip"):
        text += " (on one leg from the clip's start: at least this long)"
    else:
        text += f" from lift-off at {_num(trial.get('lift_off_s')) or 0.0:.1f} s"
    ended = ENDED.get(str(trial.get("ended_by")))
    return text + (f", {ended}" if ended else "")


def _score(trial: Mapping[str, Any]) -> str:
    score = issue4(trial, "score")
    value = _num(score.get("value")) if isinstance(score, Mapping) else _num(score)
    if value is None:
        return NOT_AVAILABLE
    mdc = _num(score.get("mdc")) if isinstance(score, Mapping) else None
    text = f'<span class="big">{value:.0f}</span> / 100'
    if mdc is not None:
        text += f" (minimal detectable change {mdc:.1f}: only a bigger change between two tests is real)"
    return text


def _wobble(trial: Mapping[str, Any]) -> str:
    dec = _map(issue4(trial, "decomposition"))
    shares = _map(dec.get("shares"))
    summary = dec.get("summary") or (f"Mostly the {dec['dominant']}." if dec.get("dominant") else "")
    if not summary and not shares:
        return NOT_AVAILABLE
    parts = ", ".join(f"{esc(k)} {_pct(v)}" for k, v in shares.items())
    text = esc(summary) + (f" <br>Shares: {parts}." if parts else "")
    bands = _map(dec.get("bands"))
    if bands:
        text += (
            f" <br>Rhythm: {_pct(bands.get('drift'))} slow drift (&lt;0.5 Hz), {_pct(bands.get('corrective'))} "
            f"corrective (0.5-2 Hz), {_pct(bands.get('fast_wobble'))} fast wobble (&gt;2 Hz)."
        )
    return text


def _tripod(trial: Mapping[str, Any]) -> str:
    tripod = _map(issue4(trial, "tripod"))
    split = _map(tripod.get("split"))
    if not split:
        return NOT_AVAILABLE
    text = (
        f"inner ball {_pct(split.get('inner_ball'))}, outer ball {_pct(split.get('outer_ball'))}, "
        f"big toe {_pct(split.get('big_toe'))}"
    )
    outside = _num(tripod.get("time_outside_tripod"))
    if outside is not None:
        text += f"; outside the tripod {_pct(outside)} of the time"
    return text + " <em>(estimate from body geometry, not a pressure measurement)</em>"


def _flags(trial: Mapping[str, Any]) -> str:
    flags = issue4(trial, "flags")
    if not isinstance(flags, list):
        return NOT_AVAILABLE
    items = [esc(f.get("text") or f.get("code", "flag")) for f in flags if isinstance(f, Mapping)]
    if not items:
        return "none: steady, level and balanced"
    return '<ul class="flags">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _sway(trial: Mapping[str, Any]) -> str:
    metrics = _map(trial.get("metrics"))
    com = _map(_map(metrics.get("observed")).get("centre_of_mass"))
    unit = UNIT_LABEL.get(str(metrics.get("unit")), str(metrics.get("unit", "")))
    velocity, rms = _num(com.get("mean_velocity")), com.get("rms")
    rms0 = _num(rms[0]) if isinstance(rms, list) and rms else None
    if velocity is None:
        return NOT_AVAILABLE
    axis = AXIS_LABEL.get(str(metrics.get("horizontal_axis")), "across the picture")
    text = f"centre of mass {velocity:.2f} {esc(unit)}/s mean velocity"
    if rms0 is not None:
        text += f", RMS {rms0:.2f} {esc(unit)}"
    lean = _map(_map(metrics.get("angles")).get("trunk_lean"))
    lean_rms = lean.get("rms")
    if isinstance(lean_rms, list) and lean_rms and _num(lean_rms[0]) is not None:
        text += f"; trunk lean RMS {lean_rms[0]:.1f} deg"
    frm, to = _num(metrics.get("analysed_from_s")), _num(metrics.get("analysed_to_s"))
    when = f", measured {frm:.1f}-{to:.1f} s" if frm is not None and to is not None else ""
    return f"{text} <br><small>{esc(axis)} ({esc(metrics.get('view', '?'))} view){when}</small>"


def _card(trial: Mapping[str, Any], k: int) -> str:
    rows = (
        ("Hold time", _hold(trial)),
        ("Stability score", _score(trial)),
        ("Where the wobble comes from", _wobble(trial)),
        ("Foot tripod", _tripod(trial)),
        ("Flags", _flags(trial)),
        ("Sway", _sway(trial)),
    )
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    leg = esc(trial.get("stance_leg", "?"))
    return f'<div class="card"><h3>Trial {k + 1}: standing on the {leg} leg</h3><table>{body}</table></div>'


def _session(doc: Mapping[str, Any]) -> str:
    """Flags about the two legs together (left/right asymmetry)."""
    flags = [f for f in doc.get("session_flags") or [] if isinstance(f, Mapping) and f.get("text")]
    items = "".join(f"<li>{esc(f['text'])}</li>" for f in flags)
    return f'<p><strong>Both legs:</strong></p><ul class="flags">{items}</ul>' if items else ""


# --- the sections --------------------------------------------------------------------------------------


def _figure(images: Mapping[str, bytes], name: str, alt: str, caption: str, cls: str = "") -> str:
    if name not in images:
        return ""
    mime = "image/jpeg" if name.endswith(".jpg") else "image/png"
    klass = f' class="{cls}"' if cls else ""
    return f"<figure{klass}>{_img(images[name], alt, mime)}<figcaption>{caption}</figcaption></figure>"


def _figures(images: Mapping[str, bytes], trials: Sequence[Mapping[str, Any]]) -> str:
    """Sway over time for every trial, then the small per-trial maps and the video still, then the
    comparisons. Two trials print side by side, so a left-and-right session still fits two pages."""
    sways, small = [], []
    for k, trial in enumerate(trials):
        n, leg = k + 1, esc(trial.get("stance_leg", "?"))
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
                f"Trial {n}: where the weight sat over the foot (estimate); darker red, more of the time.",
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


def _meaning(doc: Mapping[str, Any]) -> str:
    trials = [t for t in doc.get("trials", []) if isinstance(t, Mapping)]
    raw = [f for t in trials for f in (issue4(t, "flags") or []) if isinstance(f, Mapping)]
    raw += [f for f in doc.get("session_flags") or [] if isinstance(f, Mapping)]
    items = []
    for code in dict.fromkeys(str(f.get("code", "")) for f in raw):
        words = flag_words(code)
        title, advice = words.title, words.advice
        advice = advice or "Compare again after four to six weeks of the foot exercises."
        items.append(f"<dt>{esc(title)}</dt><dd>{esc(advice)}</dd>")
    if not items:
        has_flags = any(isinstance(issue4(t, "flags"), list) for t in trials)
        items.append(
            "<dt>No flags</dt><dd>Steady, level and balanced: keep going with the programme and test again in "
            "four to six weeks.</dd>"
            if has_flags
            else "<dt>Flags</dt><dd>This analysis has no flags (not available).</dd>"
        )
    return f'<dl class="meaning">{"".join(items)}</dl><p>{esc(PROGRAMME)}</p>'


def _method(doc: Mapping[str, Any], video_note: str | None) -> str:
    conv = _map(doc.get("conventions"))
    rows = [
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
    if _num(conv.get("min_trial_s")) is not None:
        rows.append(("Trials", f"at least {conv['min_trial_s']:g} s on one leg; sway measured after settling"))
    first = next((t for t in doc.get("trials", []) if isinstance(t, Mapping)), {})
    dec, tri, score = (_map(issue4(first, key)) for key in ("decomposition", "tripod", "score"))
    for label, value in (
        ("Wobble decomposition", dec.get("method")),
        ("Tripod estimate", tri.get("estimate")),
        ("Stability score", score.get("formula")),
        ("Minimal detectable change", score.get("mdc_note")),
    ):
        if value:
            rows.append((label, value))
    rows += [("Note", n) for n in doc.get("notes") or []]
    rows += [
        (
            "Short phase",
            f"{p.get('duration_s', 0):.1f} s on the {p.get('stance_leg', '?')} leg at {p.get('start_s', 0):.1f} s: "
            "shorter than a trial, not scored",
        )
        for p in doc.get("short_phases") or []
        if isinstance(p, Mapping)
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


def _source(doc: Mapping[str, Any]) -> str:
    model, tool, clip = _map(doc.get("model")), _map(doc.get("tool")), _map(doc.get("clip"))
    return esc(
        f"Made by {tool.get('name', 'balance')} {tool.get('version', '?')} (pose model {model.get('name', '?')}) "
        f"from the video alone, clip SHA-256 {str(clip.get('sha256', '?'))[:16]}...; no data left this computer."
    )


def report_html(
    doc: Mapping[str, Any],
    images: Mapping[str, bytes],
    *,
    name: str | None = None,
    video: str | None = None,
    video_note: str | None = None,
    today: date | None = None,
) -> str:
    """The report page for a JSON document (report.to_json) and its images by file name (plots.draw_all)."""
    trials = [t for t in doc.get("trials", []) if isinstance(t, Mapping)]
    clip = _map(doc.get("clip"))
    who = f"{esc(name)} · " if name else ""
    duration = _num(clip.get("duration_s"))
    clip_words = f"{esc(Path(str(clip.get('path', 'clip'))).name)}" + (f", {duration:.1f} s" if duration else "")
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
        f"<section><h2>Plots</h2>{plots}</section>"
        f"<section><h2>What this means</h2>{_meaning(doc)}</section>"
        f"<section><h2>Method notes</h2>{_method(doc, video_note)}</section>"
        f"<footer>{_source(doc)}</footer>"
        "</body></html>\n"
    )


# --- files ---------------------------------------------------------------------------------------------


def _jpeg(image: np.ndarray) -> bytes:
    h, w = image.shape[:2]
    if max(h, w) > SNAPSHOT_MAX_PX:
        f = SNAPSHOT_MAX_PX / max(h, w)
        image = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError("cannot encode the snapshot as JPEG")
    return buf.tobytes()


def _snapshot_time(doc: Mapping[str, Any]) -> float | None:
    first = next((t for t in doc.get("trials", []) if isinstance(t, Mapping)), None)
    if first is None:
        return None
    metrics = _map(first.get("metrics"))
    a, b = _num(metrics.get("analysed_from_s")), _num(metrics.get("analysed_to_s"))
    return (a + b) / 2 if a is not None and b is not None else _num(first.get("lift_off_s"))


def write_visuals(
    analysis: Analysis,
    out_dir: Path,
    *,
    video: bool = True,
    name: str | None = None,
    extra: Mapping[str, str | bytes] | None = None,
) -> list[Path]:
    """Write the report, its plots (PNG), the per-trial traces (series.npz) and, with video, annotated.mp4
    and a still from it, into out_dir, together with `extra` files (the analysis JSON and CSV).
    All or nothing: files appear only once every one of them is ready.
    """
    out_dir = Path(out_dir)
    doc = to_json(analysis)
    npz = series_npz(analysis)
    images = draw_all(doc, load_series(npz))
    encoded: Encoded | None = None
    try:
        with staged(out_dir) as stage:
            if video:
                # The slow part goes first: a failure there leaves no result files at all.
                encoded, frame = encode_annotated(
                    analysis, stage.reserve(VIDEO), flags=flags_from_doc(doc), snapshot_at_s=_snapshot_time(doc)
                )
                if frame is not None:
                    images[SNAPSHOT] = _jpeg(frame)
            page = report_html(
                doc,
                images,
                name=name,
                video=VIDEO if video else None,
                video_note=encoded.note if encoded is not None else None,
            )
            for file, content in {SERIES: npz, **(extra or {}), **images, REPORT: page}.items():
                stage.add(file, content)
            return stage.commit()
    except OSError as exc:
        raise ResultsError(
            f"cannot write results to {out_dir} ({exc.strerror})", "Choose another folder", option="out"
        ) from exc


def _video_note(path: Path) -> str | None:
    """Why the annotated video beside the report may not play in a browser, or None when it will."""
    cap = cv2.VideoCapture(str(path))
    try:
        code = int(cap.get(cv2.CAP_PROP_FOURCC)) if cap.isOpened() else 0
    finally:
        cap.release()
    fourcc = "".join(chr((code >> s) & 0xFF) for s in (0, 8, 16, 24)).lower()
    if fourcc in ("avc1", "h264"):
        return None
    return f"{path.name} is encoded as '{fourcc.strip() or 'unknown'}', which web browsers may not play; VLC does"


def render_report(doc: dict[str, Any], out_html: Path, *, plots_dir: Path | None, name: str | None = None) -> Path:
    """Re-render the report from a saved analysis.json document, without the pose model.

    plots_dir: the results folder holding series.npz (and snapshot.jpg); the plots are redrawn from it.
    None, or a folder without series.npz, gives the report without plots. annotated.mp4 beside out_html
    is linked. The file is replaced atomically.
    """
    out_html = Path(out_html)
    images: dict[str, bytes] = {}
    if plots_dir is not None and (Path(plots_dir) / SERIES).is_file():
        images.update(draw_all(doc, load_series(Path(plots_dir) / SERIES)))
        snapshot = Path(plots_dir) / SNAPSHOT
        if snapshot.is_file():
            images[SNAPSHOT] = snapshot.read_bytes()
    video = out_html.parent / VIDEO
    page = report_html(
        doc,
        images,
        name=name,
        video=VIDEO if video.is_file() else None,
        video_note=_video_note(video) if video.is_file() else None,
    )
    return write_outputs({out_html.name: page}, out_html.parent)[0]
