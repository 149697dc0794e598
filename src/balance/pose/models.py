"""The pose models by name and the analysis's defaults, apart from the model code so that a front end can
show them (`--help`) without loading MediaPipe."""

from __future__ import annotations

MODEL_NAMES = ("lite", "full", "heavy")
DEFAULT_MODEL = "full"
# Sway lives below ~3 Hz and the signals are low-passed at 5 Hz (measure/signals.py), so 30 frames a
# second samples it six times faster than the filter's cut-off: a 60 fps clip analysed at 30 fps
# loses nothing the metrics use and halves the pose model's work.
DEFAULT_MAX_FPS = 30.0
