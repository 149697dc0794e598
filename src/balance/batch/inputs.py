"""What a batch analyses: clip files, folders (every video inside, recursively) and CSV manifests
(`clip,name,week,height_cm,eyes,surface,age`, all but `clip` optional; relative clip paths are read from the
manifest's folder).

A file in a folder that is not a video by its name is listed as skipped (so the summary names it); a
missing or unreadable clip named directly or in a manifest becomes a failed row, not an aborted batch.
A malformed manifest stops the batch before anything runs (UsageError): its rows' meaning is unknown.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from balance.errors import UsageError, VideoError
from balance.history.model import Conditions
from balance.history.save import SaveOptions, birth_year_for, check_week
from balance.pipeline import AnalysisOptions

# The containers OpenCV's FFmpeg backend reads; `balance analyze` takes the same.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".webm", ".mkv", ".mpg", ".mpeg", ".wmv", ".3gp"})
MANIFEST_COLUMNS = ("clip", "name", "week", "height_cm", "eyes", "surface", "age", "side_clip")
HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ClipJob:
    """One clip to analyse, with what its manifest row says about it."""

    path: Path
    name: str | None = None  # the person whose history gets the result
    week: int | None = None
    height_cm: float | None = None
    conditions: Conditions = Conditions()  # the row's eyes and surface (one of floor, foam, disc, bosu)
    birth_year: int | None = None  # from the row's age, for the age references
    side: Path | None = None  # the row's side_clip: a second camera's clip of the same hold (two-view analysis)


@dataclass(frozen=True)
class Skipped:
    """A file in an input folder that is not analysed, with the reason."""

    path: Path
    reason: str


def clip_sha256(path: Path) -> str:
    """The clip's SHA-256, as the analysis document records it (the key of the history and of reruns)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _in(path: Path, folder: Path | None) -> bool:
    return folder is not None and (path == folder or folder in path.parents)


def _walk(folder: Path, out: Path | None) -> tuple[list[ClipJob], list[Skipped]]:
    jobs: list[ClipJob] = []
    skipped: list[Skipped] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        # Hidden folders and the batch's own output (when it lies inside an input folder) are not inputs.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _in((here / d).resolve(), out))
        for name in sorted(files):
            path = here / name
            if name.startswith("."):
                continue
            if path.suffix.lower() in VIDEO_SUFFIXES:
                jobs.append(ClipJob(path))
            else:
                skipped.append(Skipped(path, f"not a video file by its name ({path.suffix or 'no extension'})"))
    return jobs, skipped


def _cell(row: dict[str, str | None], column: str) -> str:
    return (row.get(column) or "").strip()


def read_manifest(manifest: Path) -> list[ClipJob]:
    """The manifest's rows as ClipJobs; UsageError naming the line for anything malformed."""
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise VideoError(f"cannot read the manifest {manifest} ({exc})", "Give a UTF-8 CSV file") from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    if "clip" not in header:
        raise UsageError(
            f"the manifest {manifest} has no 'clip' column (it has: {', '.join(header) or 'nothing'})",
            f"Start it with the header line {','.join(MANIFEST_COLUMNS)}",
        )
    jobs = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): v for k, v in raw.items()}
        clip = _cell(row, "clip")
        if not clip:
            continue
        where = f"{manifest} line {line}"
        week_text, height_text, age_text = _cell(row, "week"), _cell(row, "height_cm"), _cell(row, "age")
        try:
            week = int(week_text) if week_text else None
            height = float(height_text) if height_text else None
            age = int(age_text) if age_text else None
        except ValueError as exc:
            raise UsageError(
                f"{where}: {exc}", "week and age are whole numbers (week 1-52), height_cm a number of cm"
            ) from exc
        try:
            check_week(week)
            AnalysisOptions(height_cm=height)
            # The conditions and age are checked as a save checks them (the surface read as one of four).
            saving = SaveOptions(
                "manifest",
                conditions=Conditions(_cell(row, "eyes").casefold(), _cell(row, "surface")),
                birth_year=birth_year_for(age),
            )
        except UsageError as exc:
            raise UsageError(f"{where}: {exc.what}", exc.todo) from exc  # a manifest cell, not an option
        path = Path(clip).expanduser()
        side = Path(_cell(row, "side_clip")).expanduser() if _cell(row, "side_clip") else None
        jobs.append(
            ClipJob(
                path if path.is_absolute() else manifest.parent / path,
                _cell(row, "name") or None,
                week,
                height,
                saving.conditions,
                saving.birth_year,
                None if side is None else side if side.is_absolute() else manifest.parent / side,
            )
        )
    return jobs


def expand(inputs: list[Path], out: Path | None = None) -> tuple[list[ClipJob], list[Skipped]]:
    """INPUTS to the clips to analyse and the inputs skipped, in the order given (folders sorted)."""
    out_dir = out.resolve() if out is not None else None
    jobs: list[ClipJob] = []
    skipped: list[Skipped] = []
    for given in inputs:
        if given.is_dir():
            found, passed = _walk(given, out_dir)
            jobs += found
            skipped += passed
        elif given.suffix.lower() == ".csv":
            jobs += read_manifest(given)
        else:
            jobs.append(ClipJob(given))
    return jobs, skipped
