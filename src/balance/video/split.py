"""A clip's time line cut into parts that cost the same CPU, for processes or threads that run side by side.

Every part but the first starts by decoding the clip from its beginning (frames cannot be skipped without being
decoded, and seeking is not frame-exact in every container), and may also run a warm-up before its own start:
an even cut in time leaves the later parts longer to run, one core idle while the last finishes.
"""

from __future__ import annotations

# Decoding one frame costs about this many ms of CPU per megapixel of picture: 3.9 ms a 1080p frame and 1.45 ms a
# 720p one on 2 idle cores (benchmarks/speed.py's per-frame budget, 2026-12-03).
DECODE_MS_PER_MEGAPIXEL = 1.9


def decode_s_per_clip_s(width: int, height: int, fps: float) -> float:
    """CPU seconds it takes to decode one second of a clip of this size and frame rate."""
    return DECODE_MS_PER_MEGAPIXEL * width * height / 1e6 * fps / 1000


def balanced_bounds(duration_s: float, parts: int, run_s: float, skip_s: float, warm_s: float = 0.0) -> list[float]:
    """The start times of `parts` parts of a clip `duration_s` long, then its end, cut so that each costs the same.

    run_s: CPU seconds for each second of clip a part processes (its warm-up included); skip_s: for each second it
    only decodes to reach its start, less its warm-up of `warm_s`. The first part starts at 0 and has neither.
    """
    if parts <= 1 or duration_s <= 0:
        return [0.0, duration_s]

    def bounds_for(cost: float) -> list[float]:
        out = [0.0, cost / run_s]
        for _ in range(parts - 1):
            start = out[-1]
            warm = min(warm_s, start)
            out.append(start + (cost - (start - warm) * skip_s - warm * run_s) / run_s)
        return out

    # The last bound grows with the cost each part is given: the cost that ends the last part at the clip's end.
    lo, hi = 0.0, duration_s * run_s
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if bounds_for(mid)[-1] < duration_s else (lo, mid)
    out = bounds_for(hi)
    out[-1] = duration_s
    if any(b >= a for a, b in zip(out[1:], out[:-1], strict=True)):  # too short for the parts: one part
        return [0.0, duration_s]
    return out
