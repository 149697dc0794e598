"""What the person sees while recording: the camera picture with skeleton, prompt, timer and sway meter."""

from __future__ import annotations

import math
import os
import sys

import cv2
import numpy as np

from balance.errors import DisplayError
from balance.live.machine import Phase, TrialMachine
from balance.live.tracker import StanceStep
from balance.measure.body import centre_of_mass
from balance.pose import landmarks as lm
from balance.pose.skeleton import BODY_BONES, COLOURS, bgr, limb_bones, limb_role

# The sway meter shows the centre of mass this far either side of the stance ankle, and its RMS over
# the last few seconds: quiet single-leg stance sways a few % of leg length.
METER_RANGE = 0.10
METER_WINDOW_S = 5.0
WINDOW_TITLE = "balance record"
COLOUR = {name: bgr(rgb) for name, rgb in COLOURS.items()}  # OpenCV draws BGR
_ESC = 27


def draw_overlay(
    image: np.ndarray,
    xy: np.ndarray,
    step: StanceStep,
    machine: TrialMachine,
    sway: float,
    sway_rms: float,
    fps: float,
    latency_ms: float,
) -> np.ndarray:
    """The camera picture with skeleton, centre of mass over the stance foot, sway meter, prompt, timer and speed."""
    out = image.copy()  # the frame object is shared with the recorder; never draw on it
    h, w = out.shape[:2]
    u = max(1.0, h / 480)  # line widths and text scale with the picture
    thin, thick = max(1, round(u)), max(2, round(2 * u))
    stance = shown_stance(step, machine)
    if step.detected:
        limbs = [(bone, limb_role(side, stance)) for side in lm.SIDES for bone in limb_bones(side)]
        for (a, b), role in [*((bone, "body") for bone in BODY_BONES), *limbs]:
            pa, pb = xy[a], xy[b]
            if np.all(np.isfinite([pa, pb])):
                cv2.line(out, _pt(pa), _pt(pb), COLOUR[role], thick, cv2.LINE_AA)
        com = centre_of_mass(xy[None])[0]
        if np.all(np.isfinite(com)):
            foot_y = max(float(np.nanmax(xy[list(lm.FOOT[s]), 1])) for s in lm.SIDES)
            cv2.line(out, _pt(com), (int(com[0]), int(foot_y)), COLOUR["com"], thin, cv2.LINE_AA)
            cv2.circle(out, _pt(com), round(6 * u), COLOUR["com"], -1, cv2.LINE_AA)
            if stance is not None:
                ankle = xy[lm.ANKLE[stance]]
                if np.all(np.isfinite(ankle)):
                    cv2.drawMarker(out, _pt(ankle), COLOUR["stance"], cv2.MARKER_TRIANGLE_UP, round(14 * u), thick)
    _text(out, machine.prompt, (round(10 * u), round(34 * u)), 0.8 * u, COLOUR["body"])
    if machine.phase is Phase.COUNTDOWN:
        _text(out, str(machine.countdown_left), (w // 2 - round(20 * u), h // 2), 3.0 * u, COLOUR["stance"])
    if machine.phase in (Phase.HOLDING, Phase.DONE):
        timer = f"{machine.elapsed_s:5.1f} / {machine.duration_s:.0f} s"
        _text(out, timer, (w - round(200 * u), round(70 * u)), 0.8 * u, COLOUR["stance"])
    _sway_meter(out, sway, sway_rms, u)
    lat = f"{latency_ms:.0f} ms" if math.isfinite(latency_ms) else "-"
    _text(out, f"{fps:4.1f} fps  latency {lat}", (round(10 * u), h - round(12 * u)), 0.5 * u, (200, 200, 200))
    return out


def shown_stance(step: StanceStep, machine: TrialMachine) -> str | None:
    """The leg the overlay marks as the stance leg: the one-leg run in progress, else the leg being timed."""
    return step.run_side or (machine.leg if machine.phase is Phase.HOLDING else None)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int]) -> None:
    # A dark outline keeps the text readable on any background.
    width = max(1, round(2 * scale))
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, COLOUR["outline"], width + 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, width, cv2.LINE_AA)


def _sway_meter(img: np.ndarray, sway: float, sway_rms: float, u: float) -> None:
    """A horizontal bar: the centre of mass left or right of the stance ankle, +-10 % of leg length."""
    h, w = img.shape[:2]
    x0, x1, y = round(w * 0.25), round(w * 0.75), h - round(40 * u)
    cv2.line(img, (x0, y), (x1, y), (160, 160, 160), max(2, round(3 * u)))
    cv2.line(img, ((x0 + x1) // 2, y - round(8 * u)), ((x0 + x1) // 2, y + round(8 * u)), (160, 160, 160), 1)
    if math.isfinite(sway):
        frac = min(1.0, max(-1.0, sway / METER_RANGE))
        x = round((x0 + x1) / 2 + frac * (x1 - x0) / 2)
        cv2.circle(img, (x, y), round(7 * u), COLOUR["com"], -1, cv2.LINE_AA)
    label = f"sway {100 * sway_rms:.1f} %leg" if math.isfinite(sway_rms) else "sway"
    _text(img, label, (x1 + round(8 * u), y + round(5 * u)), 0.5 * u, COLOUR["body"])


def check_display() -> None:
    """Raise DisplayError when a window cannot be opened: no X or Wayland display on Linux."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayError(
            "no display to show the camera window on (DISPLAY is not set)",
            "Run with --no-window to be guided by console prompts instead",
        )


def show(canvas: np.ndarray) -> bool:
    """Show a frame; True when the person closed the window or pressed q or Esc."""
    try:
        cv2.imshow(WINDOW_TITLE, canvas)
        key = cv2.waitKey(1) & 0xFF
        closed = cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error as exc:
        raise DisplayError(
            "the camera window cannot be opened on this display", "Run with --no-window to use console prompts"
        ) from exc
    return closed or key in (ord("q"), _ESC)
