"""balance: single-leg stance balance from video (MediaPipe pose landmarks -> trials -> sway metrics).

The public API; the command line (`balance`) and the web app are thin layers over it:

    from balance import analyze, AnalysisOptions
    analysis = analyze("clip.mp4", AnalysisOptions(height_cm=172))

Names are imported on first use, so `import balance` stays cheap (no MediaPipe or matplotlib).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("balance")  # one source: pyproject.toml
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_PUBLIC = {
    "analyze": "balance.pipeline",
    "Analysis": "balance.pipeline",
    "AnalysisOptions": "balance.pipeline",
    "Store": "balance.history.store",
    "settings": "balance.config",
    "errors": "balance",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'balance' has no attribute {name!r}")
    if name == "errors":
        return import_module("balance.errors")
    return getattr(import_module(_PUBLIC[name]), name)
