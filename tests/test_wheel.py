"""The wheel as a user installs it: built from this checkout, installed into a fresh virtual environment in a
temporary folder, and run on a clip outside the repository, with no source tree on the path.

The new environment gets the wheel only (--no-deps); its dependencies (MediaPipe and friends, hundreds of MB)
are read from the test's own environment through a path entry placed after the new site-packages, so the
`balance` package imported is the wheel's, never this checkout's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLES

POSE_1 = SAMPLES / "sls_tfjs_pose_1_SYNTHETIC.mp4"


def version_in_pyproject() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.mark.slow
def test_the_wheel_carries_the_models_and_analyses_a_clip_outside_the_repo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = dist.glob("balance-*.whl")
    version = version_in_pyproject()
    assert wheel.name.startswith(f"balance-{version}-py3-none-any")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"balance/models/pose_landmarker_lite.task", "balance/models/pose_landmarker_full.task"} <= names
    # Every file of the package, code or data (the web app's templates and static files), is in the wheel.
    package = ROOT / "src" / "balance"
    tracked = {
        f"balance/{p.relative_to(package).as_posix()}"
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert tracked - names == set()

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    # A bare path line: the outer environment's own .pth files (the checkout's editable install) stay unread.
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # No PYTHONPATH: a checkout on it would make pip (and python) see this source tree instead of the wheel.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BALANCE_MODELS_DIR")}
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr

    elsewhere = tmp_path / "clips"
    elsewhere.mkdir()
    clip = shutil.copy(POSE_1, elsewhere / "pose.mp4")
    env["BALANCE_CACHE_DIR"] = str(tmp_path / "cache")  # a cold cache: the pose model really loads
    where = subprocess.run(
        [str(python), "-c", "import balance, balance.config as c; print(balance.__version__, c.settings().models_dir)"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    installed_version, models_dir = where.stdout.split()
    assert installed_version == version
    assert Path(models_dir) == site / "balance" / "models"

    balance = env_dir / "bin" / "balance"
    proc = subprocess.run(
        [str(balance), "analyze", str(clip), "--no-video", "--quiet", "--out", "out"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((elsewhere / "out" / "analysis.json").read_text())
    assert doc["tool"]["version"] == version
    assert [t["stance_leg"] for t in doc["trials"]] == ["left"]
