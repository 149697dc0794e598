"""Frame rate and overlay latency of the Record page in headless Chromium, for the two designs of issue 14.

(a) server pose (what the app does): the page sends the newest frame as a JPEG over the WebSocket, the server runs
    the lite model and the live trial machine, the page draws the answer over its video.
(b) in-browser pose: MediaPipe Tasks for Web (`@mediapipe/tasks-vision`, WASM, CPU) runs the same lite model
    bundle in the page on the newest video frame (only the pose: the state machine would still be the server's,
    so (b)'s figures leave out sending the landmarks and the answer); the page records the clip as (a) does.

Both use Chromium's fake camera playing a 640x480, 30 fps clip (sway_left_clean, centred), Debian's chromium,
flags as in the tests. Latency is the frame's capture time (requestVideoFrameCallback's captureTime) to the overlay
drawn for it; the rate counts overlays drawn per second. Nothing is downloaded: design (b) needs an npm install
of @mediapipe/tasks-vision in a folder given with --tasks-vision.

    .venv/bin/python benchmarks/web_record.py --design a [--seconds 15]
    .venv/bin/python benchmarks/web_record.py --design b --tasks-vision /tmp/mpweb/node_modules/@mediapipe/tasks-vision
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--use-fake-ui-for-media-stream",
         "--use-fake-device-for-media-stream"]  # fmt: skip

IN_BROWSER_PAGE = """<!doctype html><meta charset=utf-8><video id=v autoplay muted playsinline></video>
<canvas id=c width=640 height=480></canvas><pre id=out></pre>
<script type=module>
import {FilesetResolver, PoseLandmarker} from "/tv/vision_bundle.mjs";
const v = document.getElementById("v"), g = document.getElementById("c").getContext("2d");
const fs = await FilesetResolver.forVisionTasks("/tv/wasm");
const pl = await PoseLandmarker.createFromOptions(fs, {baseOptions: {modelAssetPath: "/lite.task", delegate: "CPU"},
  runningMode: "VIDEO", numPoses: 1});
v.srcObject = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}});
await v.play();
// The page records the clip as the app does (H.264, 5 Mbit/s, a chunk a second), so both designs pay for it.
const rec = new MediaRecorder(v.srcObject, {mimeType: "video/webm;codecs=h264", videoBitsPerSecond: 5000000});
let recorded = 0;
rec.ondataavailable = (e) => { recorded += e.data.size; };
rec.start(1000);
const lat = [], t0 = performance.now(), SECONDS = %SECONDS%;
let shown = 0, seen = 0;
function frame(now, meta) {
  seen++;
  const r = pl.detectForVideo(v, performance.now());
  g.drawImage(v, 0, 0);
  if (r.landmarks.length) for (const p of r.landmarks[0]) g.fillRect(p.x * 640 - 2, p.y * 480 - 2, 4, 4);
  shown++;
  lat.push(performance.now() - (meta.captureTime || now));
  if (performance.now() - t0 < SECONDS * 1000) { v.requestVideoFrameCallback(frame); return; }
  lat.sort((a, b) => a - b);
  document.getElementById("out").textContent = JSON.stringify({fps: shown / ((performance.now() - t0) / 1000),
    latency_ms_median: lat[lat.length >> 1], latency_ms_p95: lat[Math.floor(lat.length * 0.95)],
    frames_shown: shown, camera_frames: seen, recorded_bytes: recorded});
}
v.requestVideoFrameCallback(frame);
</script>"""


def camera_clip(folder: Path, seconds: float) -> Path:
    """The fake camera's clip: 640x480, 30 fps, raw Y4M (nothing to decode), black, the sway clip, black."""
    import imageio_ffmpeg

    out = folder / "camera.y4m"
    fit = "scale=-2:480,pad=640:480:(ow-iw)/2:0,fps=30,format=yuv420p,setsar=1"
    clip = ROOT / "sample_videos" / "synthetic" / "sway_left_clean.mp4"
    graph = f"[0:v]{fit}[a];[1:v]{fit}[b];[2:v]{fit}[c];[a][b][c]concat=n=3:v=1[o]"
    black = ["-f", "lavfi", "-i", "color=black:s=640x480:r=30:d=1"]
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *black, "-t", str(seconds), "-i", str(clip), *black,
         "-filter_complex", graph, "-map", "[o]", "-pix_fmt", "yuv420p", str(out)],
        check=True,
    )  # fmt: skip
    return out


def server_pose(camera: Path, folder: Path, seconds: float) -> dict[str, float]:
    """Design (a): the app itself, recording one left-leg test that ends when the person leaves the picture."""
    import uvicorn
    from playwright.sync_api import sync_playwright

    from balance.web.app import create_app
    from balance.web.settings import WebSettings

    app = create_app(WebSettings(data_dir=folder / "web", db=str(folder / "history.db"), port=8799))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=8799, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=[*FLAGS, f"--use-file-for-fake-video-capture={camera}"]
            )
            page = browser.new_page()
            page.goto("http://127.0.0.1:8799/record")
            page.fill("#name", "Benchmark")
            page.select_option("#leg", "left")
            page.fill("#duration", str(int(seconds) + 30))
            page.click("#start")
            page.wait_for_url("**/jobs/*", timeout=(seconds + 60) * 1000)
            browser.close()
        live = json.loads(next((folder / "web" / "jobs").glob("*/live.json")).read_text())
        return {**live["browser"], **{f"server_{k}": v for k, v in live["server"].items()}}
    finally:
        server.should_exit = True
        thread.join(10)


def browser_pose(camera: Path, folder: Path, seconds: float, tasks_vision: Path) -> dict[str, float]:
    """Design (b): the lite model in the page (WASM on the CPU), drawing its landmarks over the video."""
    from playwright.sync_api import sync_playwright

    site = folder / "site"
    shutil.copytree(tasks_vision, site / "tv")
    shutil.copy(ROOT / "models" / "pose_landmarker_lite.task", site / "lite.task")
    (site / "index.html").write_text(IN_BROWSER_PAGE.replace("%SECONDS%", str(seconds)))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=[*FLAGS, f"--use-file-for-fake-video-capture={camera}"]
            )
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
            page.wait_for_function(
                "document.getElementById('out').textContent.length > 0", timeout=(seconds + 90) * 1000
            )
            result = json.loads(page.inner_text("#out"))
            browser.close()
        return result
    finally:
        httpd.shutdown()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--design", choices=("a", "b"), default="a")
    ap.add_argument("--seconds", type=float, default=15.0, help="seconds of the person on one leg (default 15)")
    ap.add_argument("--tasks-vision", type=Path, help="an npm install of @mediapipe/tasks-vision (design b)")
    args = ap.parse_args()
    if args.design == "b" and not (args.tasks_vision and (args.tasks_vision / "vision_bundle.mjs").is_file()):
        print("design b needs --tasks-vision DIR (npm install @mediapipe/tasks-vision)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        camera = camera_clip(folder, args.seconds)
        load = os.getloadavg()[0]
        if args.design == "a":
            result = server_pose(camera, folder, args.seconds)
        else:
            result = browser_pose(camera, folder, args.seconds, args.tasks_vision)
    print(json.dumps({"design": args.design, "load_average_1min": round(load, 1), **result}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
