"""Record the landmarks the quick test tier reads: the pose model run for real on every licensed clip.

    python scripts/record_poses.py          # rewrites tests/data/poses/ (a few minutes on 2 cores)

Each clip in sample_videos/ and tests/data/ is analysed as `tests/conftest.py` `analysed()` analyses it
(default options), with the pose cache pointed at an empty folder; the entries the real cache writes
there (file names carry the clip's and the model's hash, the frame-rate limit and the cache version) replace
the contents of tests/data/poses/. `pytest -m "not slow"` seeds its pose cache with them, so the pipeline
runs for real from these landmarks without the model. Run it again whenever PoseTrack or the cache version
changes, or a licensed clip is added: a quick test that finds no entry fails and names this script.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "poses"
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm"}


def licensed_clips() -> list[Path]:
    """Every video the repository may carry: sample_videos/ (licensed) and tests/data/ (made from them)."""
    found = [*(ROOT / "sample_videos").rglob("*"), *(ROOT / "tests" / "data").glob("*")]
    return sorted(p for p in found if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="balance-poses-") as tmp:
        os.environ["BALANCE_CACHE_DIR"] = tmp  # read by balance.config.settings() at each call
        from balance.errors import BalanceError
        from balance.files import write_atomic
        from balance.pipeline import analyze

        index = []
        for clip in licensed_clips():
            name = clip.relative_to(ROOT)
            before = set(Path(tmp).glob("*.npz"))
            try:
                analysis = analyze(clip)
                outcome = f"{len(analysis.trials)} trial(s)"
            except BalanceError as exc:  # the poses are cached before a later stage refuses the clip
                outcome = exc.what
            print(f"{name}: {outcome}", file=sys.stderr)
            index += [f"| `{name}` | `{p.name}` | {outcome} |" for p in sorted(set(Path(tmp).glob("*.npz")) - before)]
        entries = sorted(Path(tmp).glob("*.npz"))
        if not entries:
            print("no pose was recorded", file=sys.stderr)
            return 1
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("*.npz"):
            old.unlink()
        for entry in entries:
            shutil.copy2(entry, OUT / entry.name)
    readme = [
        "# Recorded landmarks for the quick test tier",
        "",
        "Pose cache entries (balance.pose.cache) written by `python scripts/record_poses.py` with the real pose",
        "model; `tests/conftest.py` seeds each test session's cache with them. Do not edit: run the script again.",
        "",
        "| Clip | Entry | What the analysis gives |",
        "|---|---|---|",
        *index,
    ]
    write_atomic(OUT / "README.md", "\n".join(readme) + "\n")
    size = sum(p.stat().st_size for p in OUT.glob("*.npz"))
    print(f"{len(entries)} entries, {size / 2**20:.1f} MiB in {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
