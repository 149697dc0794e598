"""The results document's record of one trace's sway metrics, and its plain aliases (results/document.py)."""

from __future__ import annotations

from dataclasses import dataclass

Numbers = dict[str, float]
Words = dict[str, str]


@dataclass(frozen=True)
class Trace:
    """The sway metrics of one trace (balance.measure.sway.TraceMetrics), in `unit`; rms and range per axis."""

    name: str
    axes: tuple[str, ...]
    unit: str
    n: int
    fs: float
    duration_s: float
    path_length: float
    mean_velocity: float
    rms: tuple[float, ...]
    rms_resultant: float
    range: tuple[float, ...]
    ellipse_area_95: float | None
    mean_frequency_hz: float | None
    units: Words

    def __post_init__(self) -> None:
        if not self.axes or len(self.rms) != len(self.axes) or len(self.range) != len(self.axes):
            raise ValueError(f"{self.name}: rms and range need one value per axis of {list(self.axes)}")
