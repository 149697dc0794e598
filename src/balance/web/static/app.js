// balance web app: drag-and-drop upload with progress, live job progress (server-sent events).
// Plain JavaScript, no build step; every page works without it (plain form posts, self-refreshing job page).
"use strict";

function csrf() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

function setupUpload(form) {
  const input = form.querySelector("#clips");
  const drop = form.querySelector("#drop");
  const chosen = form.querySelector("#chosen");
  const error = form.querySelector("#upload-error");
  const sent = form.querySelector("#sent");
  const nameField = form.querySelector("#name");
  const weekField = form.querySelector("#week");
  const show = () => {
    chosen.textContent = Array.from(input.files).map((f) => f.name).join(", ");
  };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    input.files = e.dataTransfer.files;
    show();
  });
  // The programme week follows the person chosen (blank: counted from their programme by the server).
  nameField.addEventListener("change", () => {
    if (!weekField.value && nameField.value) {
      fetch("/upload/week?name=" + encodeURIComponent(nameField.value), {headers: {Accept: "application/json"}})
        .then((r) => r.json()).then((d) => { if (d.week && !weekField.value) weekField.value = d.week; })
        .catch(() => {});
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.hidden = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    sent.hidden = false;
    xhr.upload.addEventListener("progress", (p) => {
      if (p.lengthComputable) { sent.max = p.total; sent.value = p.loaded; }
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {error: xhr.responseText}; }
      if (xhr.status === 202) {
        location.href = body.jobs.length === 1 ? body.jobs[0].url : "/jobs";
      } else {
        sent.hidden = true;
        error.textContent = body.error || ("upload failed (HTTP " + xhr.status + ")");
        error.hidden = false;
      }
    });
    xhr.addEventListener("error", () => {
      sent.hidden = true;
      error.textContent = "the connection to the server was lost during the upload. Try again";
      error.hidden = false;
    });
    xhr.send(new FormData(form));
  });
}

function setupJob(section) {
  if (!["queued", "running"].includes(section.dataset.state)) return;
  const stage = document.getElementById("stage");
  const bar = document.getElementById("bar");
  const frames = document.getElementById("frames");
  const events = new EventSource(section.dataset.events);
  events.onmessage = (m) => {
    const job = JSON.parse(m.data);
    stage.textContent = job.stage_words;
    if (job.total) {
      bar.max = job.total;
      bar.value = job.done;
      frames.textContent = job.done + " of " + job.total + " frames";
    }
    if (!["queued", "running"].includes(job.state)) {
      events.close();
      location.reload();
    }
  };
  const cancel = document.getElementById("cancel");
  cancel.form.addEventListener("submit", (e) => {
    e.preventDefault();
    fetch(cancel.form.action, {method: "POST", headers: {Accept: "application/json", "X-CSRF-Token": csrf()}})
      .then(() => location.reload());
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  if (form) setupUpload(form);
  const job = document.getElementById("job");
  if (job) setupJob(job);
});
