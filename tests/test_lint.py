"""The house style, checked with the suite: ruff's lint rules and format on the whole tree, mypy's types on src/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TREES = ["src", "tests", "benchmarks", "scripts", "docs"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint_and_format() -> None:
    lint = run("ruff", "check", *TREES)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = run("ruff", "format", "--check", *TREES)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.slow  # mypy over the whole package: about 40 s of CPU from a cold cache
def test_types_of_the_package() -> None:
    types = run("mypy", "src")
    assert types.returncode == 0, types.stdout + types.stderr
