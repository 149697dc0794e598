"""The web app under load: time from upload to result, and many uploads at once.

Starts `balance serve` for real (its own process, a fresh pose cache, a fresh history), then
1. uploads one clip (default: the 30 s synthetic clip) and times upload -> result page ready, with the stages;
2. uploads N short clips at once from N threads and counts the accepted ones and the finished analyses.

    .venv/bin/python benchmarks/web.py                      # 30 s clip, then 24 uploads at once
    .venv/bin/python benchmarks/web.py --clip my.mp4 --concurrent 48 --workers 2
    .venv/bin/python benchmarks/web.py --repeat 3 --concurrent 0  # upload to result only, 3 times (median)

The load average is printed beside every timing: take them with nothing else running on the machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from balance.video.reader import probe

ROOT = Path(__file__).resolve().parents[1]
LONG = ROOT / "sample_videos" / "synthetic" / "sway_left_clean.mp4"
SHORT = ROOT / "sample_videos" / "sls_tfjs_pose_1_SYNTHETIC.mp4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    def __init__(self, url: str) -> None:
        self.url = url
        with httpx.Client(base_url=url) as c:
            found = re.search(r'csrf-token" content="(\w+)"', c.get("/").text)
            assert found
            self.csrf, self.cookies = found.group(1), dict(c.cookies)

    def upload(self, clip: Path, **fields: str) -> httpx.Response:
        with httpx.Client(base_url=self.url, cookies=self.cookies, timeout=600) as c:
            return c.post(
                "/upload",
                files=[("clips", (clip.name, clip.read_bytes(), "video/mp4"))],
                data=fields,
                headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"},
            )

    def follow(self, job_id: str) -> tuple[dict[str, Any], dict[str, float]]:
        """Poll the job to its end; the first time each stage was seen, in seconds from now."""
        start = time.monotonic()
        stages: dict[str, float] = {}
        with httpx.Client(base_url=self.url, cookies=self.cookies, headers={"Accept": "application/json"}) as c:
            while True:
                state = c.get(f"/jobs/{job_id}").json()
                stages.setdefault(state["stage"], time.monotonic() - start)
                if state["state"] not in ("queued", "running"):
                    return state, stages
                time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, default=LONG, help="the clip timed from upload to result")
    ap.add_argument("--concurrent", type=int, default=24, help="uploads sent at once (short clips)")
    ap.add_argument("--workers", type=int, default=1, help="analyses at once in the server")
    ap.add_argument("--repeat", type=int, default=1, help="uploads of --clip timed one after another (median)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="balance-web-bench-") as tmp:
        env = {**os.environ, "BALANCE_CACHE_DIR": str(Path(tmp) / "cache")}  # cold: the pose model runs
        port = free_port()
        cmd = [sys.executable, "-m", "balance.cli.main", "serve", "--port", str(port), "--no-browser"]
        cmd += ["--data", f"{tmp}/data", "--db", f"{tmp}/h.db", "--workers", str(args.workers)]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(url, timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            client = Client(url)
            print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
            print(f"clip: {args.clip.name} ({args.clip.stat().st_size / 1e6:.1f} MB), server workers {args.workers}")
            duration = probe(args.clip).duration_s
            totals = []
            for k in range(args.repeat):
                load = os.getloadavg()[0]
                t0 = time.monotonic()
                # A new person each time: the history does not refuse the same clip for them as already saved.
                sent = client.upload(args.clip, name=f"Bench {k + 1}", week="1")
                uploaded = time.monotonic() - t0
                state, stages = client.follow(sent.json()["jobs"][0]["id"])
                totals.append(time.monotonic() - t0)
                print(
                    f"upload accepted after {uploaded:.2f} s; result ready {totals[-1]:.1f} s after the upload started "
                    f"({duration / totals[-1]:.2f}x the clip's {duration:.1f} s); load average {load:.2f} at the start",
                    flush=True,
                )
                stage_times = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
                print(f"  stage first seen (s after acceptance): {stage_times}")
                assert state["state"] == "done", state
            if args.repeat > 1:
                print(f"upload to result, median of {args.repeat}: {statistics.median(totals):.1f} s")
            if not args.concurrent:
                return 0

            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(args.concurrent) as pool:
                answers = list(pool.map(lambda k: client.upload(SHORT), range(args.concurrent)))
            accepted = [r for r in answers if r.status_code == 202]
            sent_s = time.monotonic() - t0
            finals = [client.follow(r.json()["jobs"][0]["id"])[0]["state"] for r in accepted]
            all_s = time.monotonic() - t0
            codes = sorted({r.status_code for r in answers})
            print(
                f"{args.concurrent} uploads at once ({SHORT.name}): {len(accepted)} accepted (status codes {codes}) "
                f"in {sent_s:.1f} s; {finals.count('done')} analyses done, "
                f"{len(finals) - finals.count('done')} not, all in {all_s:.1f} s"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
