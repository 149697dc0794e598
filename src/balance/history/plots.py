"""Progress charts as one PNG: each metric per leg over the programme weeks with the week-1 baseline and MDC band,
and the left/right limb symmetry index per session against its threshold.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from balance.history.model import TrialRecord
from balance.history.progress import (
    EVEN_SHARE_PCT,
    HOLD,
    LSI_THRESHOLD_PCT,
    SCORE,
    SWAY,
    SYMMETRY_METRICS,
    TRIPOD_OUTER,
    Asymmetry,
    Metric,
    Trend,
    asymmetries,
    trend,
)
from balance.pose.landmarks import SIDES

# A fixed canvas (no tight bounding box), so every chart has the same pixel size: 1200 x 1100.
FIGSIZE_IN = (12.0, 11.0)
DPI = 100
LEG_COLOURS = {"left": "tab:blue", "right": "tab:orange"}
METRIC_STYLE = {HOLD.key: ("s", "tab:green"), SCORE.key: ("D", "tab:purple"), SWAY.key: ("o", "tab:brown")}
PANELS = (HOLD, SCORE, SWAY, TRIPOD_OUTER)


def _progress_panel(ax: Axes, found: Sequence[Trend], metric: Metric) -> None:
    ax.set_title(metric.label + (f" ({found[0].unit})" if found else ""))
    ax.set_xlabel("programme week")
    if not found:
        ax.text(0.5, 0.5, f"no {metric.label} recorded yet", ha="center", va="center", transform=ax.transAxes)
        return
    for t in found:
        colour = LEG_COLOURS[t.leg]
        weeks = [p.week for p in t.points]
        ax.plot(weeks, [p.mean for p in t.points], "-o", color=colour, label=f"{t.leg} leg, weekly mean")
        trials = [(p.week, v) for p in t.points for v in p.values]
        ax.plot(*zip(*trials, strict=True), ".", color=colour, alpha=0.35)
        ax.axhline(t.baseline, color=colour, linestyle="--", linewidth=1)
        if t.mdc is not None:
            ax.axhspan(
                t.baseline - t.mdc,
                t.baseline + t.mdc,
                color=colour,
                alpha=0.12,
                label=f"{t.leg}: week-{t.baseline_week} baseline ± MDC",
            )
        else:
            ax.plot([], [], "--", color=colour, label=f"{t.leg}: week-{t.baseline_week} baseline (MDC unknown)")
    if any(t.verdict == "ceiling" for t in found):
        ax.text(0.02, 0.04, "holds ran to the clip's end: lower bounds", transform=ax.transAxes, fontsize=8)
    if metric is TRIPOD_OUTER:
        ax.axhline(EVEN_SHARE_PCT, color="grey", linestyle=":", label="even three-way split")
    ax.legend(fontsize=8)


def _asymmetry_panel(ax: Axes, found: Sequence[Asymmetry]) -> None:
    ax.set_title(f"left/right symmetry per session: limb symmetry index, asymmetric below {LSI_THRESHOLD_PCT:.0f} %")
    ax.set_xlabel("programme week")
    ax.set_ylabel("LSI (%) = 100 x weaker / stronger leg")
    ax.axhspan(0, LSI_THRESHOLD_PCT, color="tab:red", alpha=0.06)
    ax.axhline(LSI_THRESHOLD_PCT, color="tab:red", linestyle="--", label="90 % LSI (Grindem et al. 2011)")
    ax.set_ylim(0, 105)
    dated = [a for a in found if a.week is not None]
    if not dated:
        ax.text(0.5, 0.5, "no session with both legs yet", ha="center", va="center", transform=ax.transAxes)
    for metric in SYMMETRY_METRICS:
        points = [(a.week, a.lsi_pct) for a in dated if a.metric == metric.key]
        if points:
            marker, colour = METRIC_STYLE[metric.key]
            ax.plot(*zip(*points, strict=True), "-" + marker, color=colour, label=metric.label)
    ax.legend(fontsize=8, loc="lower right")


def plot_history(records: Sequence[TrialRecord], *, title: str, weeks: int | None = None) -> bytes:
    """The progress chart of `records` (those with a programme week count) as PNG bytes.

    `weeks`, the programme length, sets the x axis at least that long.
    """
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(3, 2)
    axes = [fig.add_subplot(grid[i // 2, i % 2]) for i in range(len(PANELS))]
    for ax, metric in zip(axes, PANELS, strict=True):
        found = [t for leg in SIDES if (t := trend(records, metric, leg)) is not None]
        _progress_panel(ax, found, metric)
    sym = fig.add_subplot(grid[2, :])
    _asymmetry_panel(sym, asymmetries(records))
    last = max([r.week for r in records if r.week is not None] + [weeks or 1])
    for ax in [*axes, sym]:
        ax.set_xlim(0.5, last + 0.5)
        ax.set_xticks(range(1, last + 1))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=DPI)
    return png.getvalue()
