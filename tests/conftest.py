"""Shared fixtures: where the clips are, and one pose-model run per clip per test session.

The pose cache lives in a session temporary folder, so every test run computes each clip's landmarks
once, for real, and every later use in the same run (library or CLI subprocess) reads them back. A developer
working on later stages may set BALANCE_TEST_POSE_CACHE to a folder kept between runs; CI never does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from balance.errors import BalanceError
from balance.pipeline import Analysis, analyze

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
SHARED_MEDIA = ROOT.parent / "shared" / "media"


@pytest.fixture(scope="session", autouse=True)
def pose_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    kept = os.environ.get("BALANCE_TEST_POSE_CACHE")
    cache = Path(kept) if kept else tmp_path_factory.mktemp("pose-cache")
    old = os.environ.get("BALANCE_CACHE_DIR")
    os.environ["BALANCE_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("BALANCE_CACHE_DIR", None)
    else:
        os.environ["BALANCE_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"../shared/media not found at {SHARED_MEDIA}: the unlicensed test clips live only there")
    return SHARED_MEDIA


_results: dict[tuple[str, float | None], Analysis | BalanceError] = {}


def analysed(path: Path, height_cm: float | None = None) -> Analysis | BalanceError:
    """The library's analysis of a clip (or the error it raised), computed once per session."""
    key = (str(path), height_cm)
    if key not in _results:
        try:
            _results[key] = analyze(path, height_cm=height_cm)
        except BalanceError as exc:
            _results[key] = exc
    return _results[key]


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command line as a user runs it: a fresh process, real exit code and streams."""
    return subprocess.run(
        [sys.executable, "-m", "balance.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ},
    )
