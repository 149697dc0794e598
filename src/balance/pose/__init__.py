"""Frames -> PoseTrack: BlazePose's landmarks, the one MediaPipe adapter, estimation over a clip (cache, parallel
chunks), and left/right side repair.
"""
