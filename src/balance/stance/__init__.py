"""PoseTrack -> Trials: which leg stands, when the free foot lifts and lands (the one stance rule, used offline and
live).
"""
