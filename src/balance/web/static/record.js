// balance web app: the Record page. The camera picture stays in the browser; the newest frame goes to the
// server as a small JPEG, and the server's trial state machine (the one `balance record` runs) answers with the
// landmarks, prompt and timer, drawn here over the video. A frame is sent only when the previous answer is in:
// frames are skipped, never queued. The full-quality clip is recorded here and uploaded in resumable chunks.
"use strict";

const MAX_SIDE = 640; // the JPEG for the live model: longest side in pixels (the lite model works at 256)
const JPEG_QUALITY = 0.8;
const STALE_MS = 2000; // an answer this late is given up, and the next frame goes
// Frames on their way at once: the next one is encoded while the server judges the last (2 nearly doubles the
// rate on two cores; the server keeps only the newest, so latency stays one frame's work).
const IN_FLIGHT = 2;
const ENCODER_LAG_MS = 1000;

function token() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

function cameraProblem(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "The browser is not allowed to use the camera on this page. Allow the camera for this site " +
      "(the camera icon by the address, or the browser's site settings), then press Start again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "No camera was found. Connect a camera (or open this page on a phone), then press Start again.";
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return "The camera is in use by another program (a video call?) or is not responding. " +
      "Close that program, then press Start again.";
  }
  return "The camera could not be opened (" + (name || "error") + ": " + ((err && err.message) || "") + ").";
}

const INSECURE = "The browser only opens the camera on a secure page: https, or this computer's own address. " +
  "On a phone, start the server with `balance serve --host 0.0.0.0 --https` and open the https address it prints " +
  "(the phone warns once about the server's own certificate: accept it for this address).";

// Uploads the recording in order, each chunk at its offset; after a failure it asks the server how much it
// holds and goes on from there. Nothing is dropped until the server has acknowledged it.
class Uploader {
  constructor(id, maxChunk, show) {
    this.id = id;
    this.maxChunk = maxChunk;
    this.show = show;
    this.offset = 0; // bytes the server holds
    this.pending = new Blob([]);
    this.running = null;
    this.failed = null;
  }

  add(blob) {
    if (blob && blob.size) {
      this.pending = new Blob([this.pending, blob]);
      if (!this.running) this.running = this.run().finally(() => { this.running = null; });
    }
  }

  async done() {
    while (this.running) await this.running;
    if (this.failed) throw this.failed;
  }

  url() {
    return "/record/uploads/" + this.id;
  }

  async run() {
    let tries = 0;
    while (this.pending.size) {
      const piece = this.pending.slice(0, this.maxChunk);
      try {
        const r = await fetch(this.url() + "?offset=" + this.offset, {
          method: "PUT", body: piece, headers: {"X-CSRF-Token": token(), Accept: "application/json"},
        });
        const body = await r.json();
        if (!r.ok && r.status !== 409) throw new Error(body.error || ("status " + r.status));
        this.advance(body.size);
        tries = 0;
      } catch (err) {
        tries += 1;
        if (tries > 15) { // about a minute; the server analyses an abandoned recording after 90 s
          this.failed = new Error("the recording could not be uploaded (" + err.message + "). " +
            "What was sent is kept on the server.");
          return;
        }
        this.show("connection lost; trying again");
        await new Promise((ok) => setTimeout(ok, Math.min(5000, 500 * tries)));
        try {
          const r = await fetch(this.url(), {headers: {Accept: "application/json"}});
          if (r.ok) this.advance((await r.json()).size);
        } catch (_) { /* still offline: the next round tries again */ }
      }
    }
  }

  advance(size) {
    if (size > this.offset) {
      this.pending = this.pending.slice(size - this.offset);
      this.offset = size;
    }
    this.show("uploaded " + (this.offset / 1048576).toFixed(1) + " MB");
  }
}

function setupRecord(form) {
  const $ = (id) => document.getElementById(id);
  const problem = $("problem");
  const video = $("video");
  const canvas = $("overlay");
  const g = canvas.getContext("2d");
  const grab = document.createElement("canvas");
  let ws = null, recorder = null, stream = null, uploader = null, shape = null;
  let running = false, ending = false, t0 = 0;
  let frameNo = 0, sent = 0, skipped = 0, lastKey = "", lastTrials = [];
  const captured = new Map();
  const latencies = [];
  const shownAt = [];

  const say = (text) => { problem.textContent = text; problem.hidden = !text; };

  function step(msg) {
    // One line per state change (a countdown's ticks and a hold's seconds are one step each).
    const key = msg.phase + (msg.phase === "countdown" || msg.phase === "holding" ? "" : msg.prompt);
    if (key === lastKey) return;
    lastKey = key;
    const li = document.createElement("li");
    li.dataset.phase = msg.phase;
    li.dataset.t = msg.t.toFixed(2);
    li.textContent = msg.t.toFixed(1) + " s: " + msg.prompt;
    $("steps").appendChild(li);
  }

  function drawSkeleton(msg) {
    if (canvas.width !== video.videoWidth || canvas.height !== video.videoHeight) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
    }
    const w = canvas.width, h = canvas.height, u = Math.max(1, h / 480);
    g.clearRect(0, 0, w, h);
    if (!msg.xy) return;
    const p = (i) => msg.xy[i];
    const colour = shape.colours;
    // The skeleton and its colours are the server's one spec (balance.pose.skeleton), as the annotated video
    // and the desktop window draw them: the stance leg gold, the free leg blue while the other stands.
    const bones = shape.body.map((bone) => [bone, colour.body]);
    for (const side of ["left", "right"]) {
      const role = !msg.stance ? "body" : side === msg.stance ? "stance" : "free";
      for (const bone of shape.limbs[side]) bones.push([bone, colour[role]]);
    }
    g.lineWidth = 3 * u;
    g.lineCap = "round";
    for (const [[a, b], stroke] of bones) {
      if (!p(a)[0] || !p(b)[0]) continue;
      g.strokeStyle = stroke;
      g.beginPath();
      g.moveTo(p(a)[0] * w, p(a)[1] * h);
      g.lineTo(p(b)[0] * w, p(b)[1] * h);
      g.stroke();
    }
    if (msg.com && msg.com[0] !== null) {
      const [cx, cy] = [msg.com[0] * w, msg.com[1] * h];
      g.strokeStyle = g.fillStyle = colour.com;
      g.lineWidth = 1.5 * u;
      g.beginPath();
      g.moveTo(cx, cy);
      g.lineTo(cx, msg.floor * h); // the centre of mass's plumb line down to the feet
      g.stroke();
      g.beginPath();
      g.arc(cx, cy, 6 * u, 0, 2 * Math.PI);
      g.fill();
    }
    if (msg.stance) {
      const ankle = p(shape.ankle[msg.stance]);
      if (ankle[0] !== null) {
        const [ax, ay] = [ankle[0] * w, ankle[1] * h];
        g.fillStyle = colour.stance;
        g.beginPath();
        g.moveTo(ax, ay - 10 * u);
        g.lineTo(ax - 8 * u, ay + 5 * u);
        g.lineTo(ax + 8 * u, ay + 5 * u);
        g.fill();
      }
    }
  }

  function show(msg) {
    $("prompt").textContent = msg.prompt;
    $("countdown").hidden = msg.phase !== "countdown";
    $("countdown").textContent = msg.countdown || "";
    $("timer").hidden = !msg.timing;
    $("timer").textContent = msg.elapsed.toFixed(1) + " / " + Math.round(msg.duration) + " s";
    const dot = $("meter-dot");
    dot.hidden = msg.sway === null || msg.sway === undefined;
    if (!dot.hidden) dot.style.left = (50 + 50 * Math.max(-1, Math.min(1, msg.sway / shape.meter))) + "%";
    $("meter-words").textContent = msg.sway_rms_pct != null ? "sway " + msg.sway_rms_pct.toFixed(1) + " % leg" : "sway";
    step(msg);
    lastTrials = msg.trials;
    drawSkeleton(msg);
  }

  function measure(frame) {
    // Latency: the frame's capture to its overlay on screen; rate: overlays drawn over the last second.
    const now = performance.now();
    const at = captured.get(frame);
    for (const k of captured.keys()) if (k <= frame) captured.delete(k); // older ones were dropped by the server
    if (at !== undefined) latencies.push(now - at);
    shownAt.push(now);
    while (shownAt.length && shownAt[0] < now - 1000) shownAt.shift();
    const lat = latencies.length ? Math.round(latencies[latencies.length - 1]) + " ms" : "-";
    $("speed").textContent = shownAt.length.toFixed(0) + " fps · latency " + lat;
  }

  function stats() {
    const sorted = latencies.slice().sort((a, b) => a - b);
    const q = (f) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))] : null);
    const span = (performance.now() - t0) / 1000;
    return {fps: span > 0 ? latencies.length / span : null, latency_ms_median: q(0.5), latency_ms_p95: q(0.95),
      frames_sent: sent, frames_skipped: skipped, frames_shown: latencies.length};
  }

  function onFrame(now, meta) {
    if (!running) return;
    video.requestVideoFrameCallback(onFrame);
    const at = meta.captureTime || now;
    if (at < t0) return; // before the recording's first frame: not in the clip
    const oldest = captured.size ? Math.min(...captured.values()) : now;
    if (performance.now() - oldest > STALE_MS) captured.clear(); // lost answers: start afresh
    if (captured.size >= IN_FLIGHT) {
      skipped += 1;
      return;
    }
    const s = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    grab.width = Math.round(video.videoWidth * s);
    grab.height = Math.round(video.videoHeight * s);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    const number = ++frameNo;
    captured.set(number, at);
    grab.toBlob(async (jpeg) => {
      const head = new DataView(new ArrayBuffer(12));
      head.setUint32(0, number, true);
      head.setFloat64(4, (at - t0) / 1000, true);
      const body = await jpeg.arrayBuffer();
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(new Blob([head.buffer, body]));
        sent += 1;
      }
    }, "image/jpeg", JPEG_QUALITY);
  }

  async function end(summary) {
    if (ending) return;
    ending = true;
    running = false;
    $("stop").disabled = true;
    $("summary").hidden = false;
    $("summary").replaceChildren(...summary.map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    }));
    if (recorder && recorder.state !== "inactive") {
      // The encoder runs behind the camera on a busy machine, and stop() drops what it has not encoded yet:
      // record on a moment, so the clip holds every frame the live test judged.
      await new Promise((ok) => setTimeout(ok, ENCODER_LAG_MS));
      const stopped = new Promise((ok) => recorder.addEventListener("stop", ok, {once: true}));
      recorder.stop();
      await stopped;
    }
    stream.getTracks().forEach((t) => t.stop());
    try {
      await uploader.done();
      const r = await fetch(uploader.url() + "/finish", {
        method: "POST", body: JSON.stringify(stats()),
        headers: {"X-CSRF-Token": token(), Accept: "application/json", "Content-Type": "application/json"},
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error || ("status " + r.status));
      if (lastTrials.length) {
        location.href = body.url; // the job page: progress, then the result of the full analysis
      } else {
        const a = document.createElement("a");
        a.href = body.url;
        a.id = "job-link";
        a.textContent = "The recording was kept: see what the full analysis finds";
        $("summary").appendChild(a);
      }
    } catch (err) {
      say(err.message);
    }
  }

  async function start(e) {
    e.preventDefault();
    say("");
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(INSECURE);
      return;
    }
    if (typeof MediaRecorder === "undefined" || !("requestVideoFrameCallback" in HTMLVideoElement.prototype)) {
      say("This browser cannot record video in a page. Use a current Chrome, Edge, Firefox or Safari.");
      return;
    }
    const r = await fetch("/record/uploads", {
      method: "POST", body: new URLSearchParams(new FormData(form)),
      headers: {"X-CSRF-Token": token(), Accept: "application/json"},
    });
    const made = await r.json();
    if (!r.ok) {
      say(made.error);
      return;
    }
    uploader = new Uploader(made.id, made.max_chunk, (text) => { $("upload-state").textContent = text; });
    // The server loads its pose model first, so the camera's first frames find it ready.
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
      "/record/live?upload=" + encodeURIComponent(made.id));
    ws.binaryType = "arraybuffer";
    const ready = new Promise((ok, fail) => {
      ws.onmessage = (ev) => ok(JSON.parse(ev.data));
      ws.onclose = (ev) => fail(new Error("The server could not start the live test: " + (ev.reason || "closed")));
    });
    try {
      shape = await ready;
    } catch (err) {
      say(err.message);
      return;
    }
    // The timer, countdown and sway meter take the overlay's colours too (record.css: var(--colour-...)).
    for (const [name, value] of Object.entries(shape.colours)) {
      document.documentElement.style.setProperty("--colour-" + name, value);
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: {width: {ideal: 1280}, height: {ideal: 720}, facingMode: "user"}, audio: false,
      });
    } catch (err) {
      ws.onclose = null;
      ws.close();
      say(cameraProblem(err));
      return;
    }
    form.hidden = true;
    $("live").hidden = false;
    video.srcObject = stream;
    await video.play();
    $("viewer").style.setProperty("--ar", String(video.videoWidth / video.videoHeight));
    // H.264 first: on a 2-core machine it leaves the page 20 frames a second where VP8 leaves 5 (benchmarks/);
    // in WebM, which hands over a chunk a second (Chromium's MP4 comes out whole, at the end).
    const types = ["video/webm;codecs=h264", "video/webm;codecs=vp8", "video/webm", "video/mp4"];
    recorder = new MediaRecorder(stream, {mimeType: types.find((t) => MediaRecorder.isTypeSupported(t)),
      videoBitsPerSecond: 5000000});
    recorder.ondataavailable = (ev) => uploader.add(ev.data);
    recorder.start(1000); // a chunk a second: at most a second is lost if the tab closes
    t0 = performance.now();
    running = true;
    video.requestVideoFrameCallback(onFrame);
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.frame !== undefined) {
        show(msg);
        measure(msg.frame);
      }
      if (msg.summary) {
        show(msg);
        end(msg.summary);
      }
    };
    ws.onclose = () => {
      if (!ending) {
        say("The connection to the server closed during the test; what was recorded is being saved.");
        end(["stopped: the connection to the server closed"]);
      }
    };
    $("stop").onclick = () => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({stop: true}));
      else end(["stopped"]);
    };
  }

  form.addEventListener("submit", start);
  $("name").addEventListener("change", () => {
    const week = $("week");
    if (week.value || !$("name").value) return;
    fetch("/upload/week?name=" + encodeURIComponent($("name").value), {headers: {Accept: "application/json"}})
      .then((r) => r.json()).then((d) => { if (d.week && !week.value) week.value = d.week; }).catch(() => {});
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("record-setup");
  if (form) setupRecord(form);
});
