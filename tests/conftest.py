"""Shared fixtures: where the clips are, one pose-model run per clip per test session, and the test tiers.

The pose cache lives in a session temporary folder, so every test run computes each clip's landmarks
once, for real, and every later use in the same run (library or CLI subprocess) reads them back. A developer
working on later stages may set BALANCE_TEST_POSE_CACHE to a folder kept between runs; CI never does.

Tiers: the cache starts with the landmarks recorded from the licensed clips (tests/data/poses/, written by
scripts/record_poses.py with the real model), served through the real cache, so `pytest -m "not slow"` runs
the whole pipeline from them without the pose model. A test that runs the model (another clip, model or
frame-rate limit), or that needs a heavy part (Chromium, PostgreSQL, a Dask cluster, ../shared/media), is
`slow`: marked by hand or, for the fixtures in HEAVY_FIXTURES, here. A quick test that runs the model fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import balance.pose.estimate
from balance.errors import BalanceError
from balance.pipeline import Analysis, analyze

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_videos"
SHARED_MEDIA = ROOT.parent / "shared" / "media"
RECORDED_POSES = ROOT / "tests" / "data" / "poses"

# Fixtures that start a heavy part: a test using one is slow wherever it lives.
# (shared_media: the pose model on the unlicensed clips; six_weeks: on cut clips; scheduler: Dask; postgres;
# playwright and browser: Chromium)
HEAVY_FIXTURES = {"shared_media", "six_weeks", "scheduler", "postgres", "playwright", "browser"}
# A parametrised fixture's value that starts one (the history on PostgreSQL).
HEAVY_PARAMS = {("database", "postgresql")}
# The pose cache's entries when the last test ended: one that appears during a quick test is the model's work.
_cache_seen: set[Path] = set()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        heavy = names & HEAVY_FIXTURES or {k for k in HEAVY_PARAMS if params.get(k[0]) == k[1]}
        if heavy and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def pose_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    kept = os.environ.get("BALANCE_TEST_POSE_CACHE")
    cache = Path(kept) if kept else tmp_path_factory.mktemp("pose-cache")
    cache.mkdir(parents=True, exist_ok=True)
    for entry in RECORDED_POSES.glob("*.npz"):  # copies: the cache may remove an entry it cannot read
        if not (cache / entry.name).is_file():
            shutil.copyfile(entry, cache / entry.name)
    _cache_seen.update(cache.glob("*.npz"))
    old = os.environ.get("BALANCE_CACHE_DIR")
    os.environ["BALANCE_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("BALANCE_CACHE_DIR", None)
    else:
        os.environ["BALANCE_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _quick_tests_run_no_pose_model(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, pose_cache: Path
) -> Iterator[None]:
    """A quick test that runs the pose model fails: in process (any thread) and, with the session's own cache,
    in a subprocess or a wider-scoped fixture too (the model's landmarks land in the cache)."""
    quick = request.node.get_closest_marker("slow") is None
    ran: list[str] = []

    def refuse(info: Any, *args: Any, **kwargs: Any) -> Any:
        ran.append(Path(info.path).name)
        raise RuntimeError("the pose model may not run in a quick test")

    def refuse_start(chunks: Any) -> Any:
        ran.append(Path(chunks[0].clip.path).name)
        raise RuntimeError("the pose model may not run in a quick test")

    if quick:
        monkeypatch.setattr(balance.pose.estimate, "_run_parallel", refuse)
        monkeypatch.setattr(balance.pose.estimate, "_start_workers", refuse_start)
    yield
    if not os.environ.get("BALANCE_TEST_POSE_CACHE"):  # a kept folder may be shared with other runs
        now = set(pose_cache.glob("*.npz"))
        ran += [f"cache entry {p.name}" for p in now - _cache_seen] if quick else []
        _cache_seen.update(now)
    if ran:
        pytest.fail(
            f"this test ran the pose model ({', '.join(sorted(set(ran)))}), which the quick tier never does: mark "
            "it @pytest.mark.slow, or, for a licensed clip at default options, run scripts/record_poses.py",
            pytrace=False,
        )


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


def sigint_as_at_a_terminal() -> None:
    """A child's SIGINT as a terminal's Ctrl-C finds it, however the suite was started (Popen's preexec_fn).

    A shell runs a background job (`nohup bash .ci/run &`) with SIGINT ignored, every child inherits that, and
    Python leaves an inherited SIG_IGN alone: the default action restored here makes the child's Python
    install its KeyboardInterrupt handler as it does at a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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
