"""The landmarks the quick tier reads (tests/data/poses/, written by scripts/record_poses.py) are current: one
entry per licensed clip at this pose cache version, each a PoseTrack of its clip. When this fails, run
`python scripts/record_poses.py`."""

from __future__ import annotations

import importlib.util

from balance.pose.estimate import CACHE_VERSION, PoseTrack
from balance.video.reader import sha256_file

from .conftest import RECORDED_POSES, ROOT

_spec = importlib.util.spec_from_file_location("record_poses", ROOT / "scripts" / "record_poses.py")
assert _spec is not None and _spec.loader is not None
record_poses = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(record_poses)


def test_every_licensed_clip_has_its_landmarks_at_this_cache_version() -> None:
    entries = sorted(RECORDED_POSES.glob("*.npz"))
    stale = [p.name for p in entries if not p.name.endswith(f"-v{CACHE_VERSION}.npz")]
    assert not stale, f"recorded before pose cache version {CACHE_VERSION}: run python scripts/record_poses.py"
    recorded = {PoseTrack.load(p).clip_sha256 for p in entries}
    clips = {sha256_file(c): c.relative_to(ROOT).as_posix() for c in record_poses.licensed_clips()}
    missing = [name for sha, name in clips.items() if sha not in recorded]
    assert not missing, f"no recorded landmarks for {missing}: run python scripts/record_poses.py"
