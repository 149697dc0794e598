"""Two cameras, no calibration: a front and a side view of one hold fused into a 2-D stabilogram.

Each view goes through the single-view pipeline (balance.pipeline.analyze) and measures the axis it sees,
scaled by the stance leg's length as always. This stage then

- pairs the views (pairing.py): which is front and which is side, from the shoulder/trunk view ratio the
  measurement already computes, and how far apart the two cameras look, from MediaPipe's 3-D landmarks;
  two views of the same axis (two front views, front and back) are refused;
- synchronises them (sync.py) by cross-correlating signals both views share: the vertical motion of hips
  and shoulders and the free foot's lift and landing (up is up in every camera), refined to a fraction of a
  frame by a parabola through the correlation peak, with the spread over the signals as its uncertainty;
- fuses them (fuse.py): side to side from the front view, forward-backward from the side view, resampled to
  one time base over the time both views see the hold, with the force-plate metrics of measure/sway.py (95 %
  prediction ellipse, mean velocity, path length on both axes) and the tripod's position on both axes.

Pure functions over the single-view results; the pipeline's analyze_pair calls them.
"""
