"""balance: single-leg stance balance from video (MediaPipe pose landmarks -> trials -> sway metrics).

The library is `balance.analysis.analyze`; the command line (`balance`) is a thin layer over it.
"""

__version__ = "0.1.0"
