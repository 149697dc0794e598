"""Two single-view analyses of one hold made into one: paired, synchronised, checked and fused."""

from __future__ import annotations

import numpy as np

from balance.errors import PairError
from balance.twoview.fuse import TwoView, V, View, fuse
from balance.twoview.pairing import Pairing, body_turn_deg, check_separation, pair_views, separation
from balance.twoview.sync import NoSyncError, Sync, synchronise


def _ratio(a: View) -> float:
    return float(np.median([m.view_ratio for m in a.trials]))


def _separation(front: View, side: View, sync: Sync) -> tuple[float, float]:
    """The cameras' angle from the body's turn in each view at the same instants (the front clip's frames)."""
    tf, ts = front.track.t, side.track.t + sync.offset_s
    both = (tf >= ts[0]) & (tf <= ts[-1])
    nearest = np.clip(np.searchsorted(ts, tf[both]), 0, len(ts) - 1)
    turn_f = body_turn_deg(front.track, slice(None))[both]
    turn_s = body_turn_deg(side.track, slice(None))[nearest]
    return separation(turn_f, turn_s)


def combine(first: V, second: V) -> tuple[V, TwoView]:
    """The front view's analysis and the two-view result; the clips may be given in either order (PairError when
    they do not make a pair: two front or two side views, one axis seen twice, no common movement or time)."""
    a, b = first.clip.path.name, second.clip.path.name
    ratios = _ratio(first), _ratio(second)
    swapped, alike = pair_views(*ratios, a, b)
    front, side = (second, first) if swapped else (first, second)
    front_ratio, side_ratio = ratios[::-1] if swapped else ratios
    try:
        sync = synchronise(front.track, side.track)
    except NoSyncError as exc:
        raise PairError(
            f"the two clips do not show the same movement at the same time ({exc}): different people, clips not "
            "recorded together, or views the pose model sees too differently",
            "Give two clips of the same person filmed at the same time",
            option="side",
        ) from exc
    sep, sep_sd = _separation(front, side, sync)
    check_separation(sep, sep_sd, front.clip.path.name, side.clip.path.name)
    note = alike or (
        f"{front.clip.path.name}, given as the side view, looks more front-on (shoulder/trunk ratio "
        f"{front_ratio:.2f} against {side_ratio:.2f}) and was taken as the front view"
        if swapped
        else ""
    )
    pairing = Pairing(front_ratio, side_ratio, swapped, sep, sep_sd, note)
    return front, fuse(front, side, pairing, sync)
