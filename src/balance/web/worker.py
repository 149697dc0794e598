"""One analysis, run as its own process: `python -m balance.web.worker JOB_DIR`.

Reads the job's options from JOB_DIR/job.json, writes the results into JOB_DIR/staging (all or nothing),
prints progress as one JSON object per line, and on failure writes JOB_DIR/error.json with the library's
one-line message and the HTTP status for it. A plain process (not multiprocessing) so the server can stop it
and its pose processes together, as one process group.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from balance.errors import BalanceError
from balance.files import write_atomic
from balance.pipeline import AnalysisOptions
from balance.stance.trials import MIN_TRIAL_S
from balance.web.services import analyse_clip

STAGING = "staging"
ERROR = "error.json"


def _say(stage: str, done: int, total: int) -> None:
    print(json.dumps({"stage": stage, "done": done, "total": total}), flush=True)


def run(job_dir: Path) -> int:
    job = json.loads((job_dir / "job.json").read_text())
    options = AnalysisOptions(
        height_cm=job.get("height_cm"), workers=job.get("pose_workers"), min_trial_s=job.get("min_trial_s", MIN_TRIAL_S)
    )
    clip = job_dir / job["clip"]
    side = job_dir / job["side"] if job.get("side") else None
    try:
        analyse_clip(
            clip,
            job_dir / STAGING,
            options,
            name=job.get("name") or None,
            legs=tuple(job.get("legs", ())),
            side=side,
            progress=_say,
        )
    except BalanceError as exc:
        # The message names the server's own file; the user knows the clip by the name they uploaded.
        message = str(exc).replace(str(clip), job.get("filename") or "the clip")
        if side is not None:
            message = message.replace(str(side), job.get("side_filename") or "the side clip")
        write_atomic(job_dir / ERROR, json.dumps({"message": message, "status": exc.http_status}))
        return 1
    except Exception:
        traceback.print_exc()
        unexpected = {
            "message": "the analysis failed unexpectedly. Try again; if it fails again, report it",
            "status": 500,
        }
        write_atomic(job_dir / ERROR, json.dumps(unexpected))
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    sys.exit(run(Path(sys.argv[1])))
