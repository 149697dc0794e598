"""A live single-leg stance test: pose on the newest camera frame, the trial state machine, the overlay and the
saved raw clip.
"""
