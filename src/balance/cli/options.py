"""Command-line options that several commands share, with their defaults from the library."""

from __future__ import annotations

import argparse

from balance.pose.models import DEFAULT_MAX_FPS, DEFAULT_MODEL, MODEL_NAMES


def add_pose_options(p: argparse.ArgumentParser, max_fps_help: str) -> None:
    """--model and --max-fps, as `analyze` and `batch` take them."""
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"pose model: {', '.join(MODEL_NAMES)} or a .task path (default {DEFAULT_MODEL})",
    )
    p.add_argument(
        "--max-fps", type=float, default=DEFAULT_MAX_FPS, help=f"{max_fps_help} (default {DEFAULT_MAX_FPS:g})"
    )
