"""Snapshot `balance analyze --json` on every clip in sample_videos/, to show that a change of code layout
changes no result.

    python scripts/json_snapshot.py save before.json     # before the change
    python scripts/json_snapshot.py check before.json    # after: exits 1 and prints the differences if any

Each clip's document (or its exit code and error line) is kept without the tool version and the clip's
absolute path, the only fields a refactor or another checkout may change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIP_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".jpeg", ".jpg", ".png"}


def snapshot() -> dict[str, object]:
    out: dict[str, object] = {}
    clips = sorted(p for p in (ROOT / "sample_videos").rglob("*") if p.suffix.lower() in CLIP_SUFFIXES)
    for clip in clips:
        with tempfile.TemporaryDirectory() as tmp:
            args = ["analyze", str(clip.relative_to(ROOT)), "--json", "--no-video", "--quiet", "--out", tmp]
            run = subprocess.run(
                [sys.executable, "-m", "balance.cli", *args], capture_output=True, text=True, check=False, cwd=ROOT
            )
        name = str(clip.relative_to(ROOT))
        if run.returncode == 0:
            out[name] = normalise(json.loads(run.stdout))
        else:
            out[name] = {"exit": run.returncode, "stderr": run.stderr.strip()}
        print(f"{name}: exit {run.returncode}", file=sys.stderr)
    return out


def normalise(doc: dict[str, object]) -> dict[str, object]:
    for key, field in (("tool", "version"), ("clip", "path")):
        part = doc.get(key)
        if isinstance(part, dict):
            part.pop(field, None)
    return doc


def diff(a: object, b: object, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in diff(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"[:300]]


def main() -> int:
    mode, file = sys.argv[1], Path(sys.argv[2])
    now = snapshot()
    if mode == "save":
        file.write_text(json.dumps(now, indent=1, sort_keys=True))
        return 0
    before = {k: normalise(v) for k, v in json.loads(file.read_text()).items()}
    changes = diff(before, now)
    print("\n".join(changes) or "same documents on every clip")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
