"""The results folder: every file of one analysis, written together (balance.files.staged) or not at all.

`write_results` is the one writer (`balance analyze`, the web app, batch runs); `render_report` redraws the
report of a saved folder from its analysis.json and series.npz, without the pose model (`balance report`).
"""

from __future__ import annotations

import contextlib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from balance.errors import ResultsError
from balance.files import staged, write_atomic
from balance.pipeline import Analysis
from balance.results.document import Document, build_document, json_text
from balance.results.html import SNAPSHOT, report_html
from balance.results.plots import draw_all, load_series, series_npz
from balance.results.side_by_side import SideBySide
from balance.results.text import frames_csv
from balance.results.video import Encoded, encode_annotated, flags_from_doc
from balance.video.writer import DEFAULT_VIDEO_SIZE

ANALYSIS = "analysis.json"
FRAMES = "frames.csv"
REPORT = "report.html"
VIDEO = "annotated.mp4"
SERIES = "series.npz"
# The report's still from the annotated video: small enough to embed (a few hundred kB as JPEG).
SNAPSHOT_MAX_PX = 720


@dataclass(frozen=True)
class Written:
    """What write_results wrote: the files (in the folder), the document and its JSON as in analysis.json."""

    files: tuple[Path, ...]
    document: Document
    json: dict[str, Any]


def write_results(
    analysis: Analysis,
    out_dir: Path,
    *,
    document: Document | None = None,
    video: bool = True,
    video_size: int | None = DEFAULT_VIDEO_SIZE,
    name: str | None = None,
) -> Written:
    """Write analysis.json, frames.csv, series.npz, the plots (PNG), report.html and, with video, annotated.mp4
    and a still from it into out_dir: all or nothing, an earlier result there stays whole until the end.

    document: the analysis's results document when the caller already built it (it is built once).
    video_size: the annotated video's shorter side at most this many pixels (None: the clip's own size).
    Raises ResultsError when the folder cannot be written (it names the cause: no space, no permission).
    """
    out_dir = Path(out_dir)
    doc = document if document is not None else build_document(analysis)
    data = doc.to_json()
    npz = series_npz(analysis)
    encoded: Encoded | None = None
    try:
        with staged(out_dir) as stage, ThreadPoolExecutor(1, thread_name_prefix="plots") as pool:
            # The plots are drawn beside the video: its decoding, scaling and encoding run outside the interpreter
            # (OpenCV, ffmpeg), which leaves room for matplotlib on the other core.
            plots = pool.submit(draw_all, doc, load_series(npz))
            if video:
                # The slow part goes first: a failure there leaves no result files at all.
                encoded, frame = _encode(analysis, doc, stage.reserve(VIDEO), video_size)
            images = plots.result()
            if video and frame is not None:
                images[SNAPSHOT] = _jpeg(frame)
            page = report_html(
                doc,
                images,
                name=name,
                video=VIDEO if video else None,
                video_note=encoded.note if encoded is not None else None,
            )
            stage.add(ANALYSIS, json_text(data))
            stage.add(FRAMES, frames_csv(analysis))
            stage.add(SERIES, npz)
            for file, image in images.items():
                stage.add(file, image)
            stage.add(REPORT, page)
            return Written(tuple(stage.commit()), doc, data)
    except OSError as exc:
        raise ResultsError(
            f"cannot write results to {out_dir} ({exc.strerror})",
            "Free some space or choose another folder",
            option="out",
        ) from exc


def _encode(analysis: Analysis, doc: Document, path: Path, size: int | None) -> tuple[Encoded, np.ndarray | None]:
    try:
        with contextlib.ExitStack() as stack:
            beside = None
            if analysis.two_view is not None:  # two cameras: the side view beside the front, in step
                tv = analysis.two_view
                beside = stack.enter_context(SideBySide(tv.side, tv.sync.offset_s)).beside
            return encode_annotated(
                analysis, path, flags=flags_from_doc(doc), snapshot_at_s=_snapshot_time(doc), size=size, beside=beside
            )
    except RuntimeError as exc:  # the encoder stopped: ffmpeg on a full disk, or killed
        raise ResultsError(
            f"cannot write {VIDEO} to {path.parent} ({str(exc).splitlines()[0]})",
            "Free some space or choose another folder, or leave the video out",
            option="out",
        ) from exc


def render_report(doc: Document, out_html: Path, *, plots_dir: Path | None, name: str | None = None) -> Path:
    """Re-render the report from a saved results document, without the pose model.

    plots_dir: the results folder holding series.npz (and snapshot.jpg); the plots are redrawn from it.
    None, or a folder without series.npz, gives the report without plots. annotated.mp4 beside out_html
    is linked. The file is replaced atomically.
    """
    out_html = Path(out_html)
    images: dict[str, bytes] = {}
    series = Path(plots_dir) / SERIES if plots_dir is not None else None
    if series is not None and series.is_file():
        try:
            traces = load_series(series)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ResultsError(f"{series} is damaged ({exc})", "Analyse the clip again") from exc
        images.update(draw_all(doc, traces))
        snapshot = series.parent / SNAPSHOT
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
    try:
        return write_atomic(out_html, page)
    except OSError as exc:
        raise ResultsError(f"cannot write {out_html} ({exc.strerror})", "Choose another folder") from exc


def _jpeg(image: np.ndarray) -> bytes:
    h, w = image.shape[:2]
    if max(h, w) > SNAPSHOT_MAX_PX:
        f = SNAPSHOT_MAX_PX / max(h, w)
        image = cv2.resize(image, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError("cannot encode the snapshot as JPEG")
    return buf.tobytes()


def _snapshot_time(doc: Document) -> float | None:
    """Mid-way through the first trial's analysed window: the still the report shows."""
    if not doc.trials:
        return None
    metrics = doc.trials[0].metrics
    return (metrics.analysed_from_s + metrics.analysed_to_s) / 2


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
