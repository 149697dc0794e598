"""Is the person upright in the picture? A clip turned without a rotation flag shows them sideways or upside down.

MediaPipe still finds a person lying across the frame or standing on their head, and every later stage would
read "up" the wrong way (issue 12: a clip turned 180 degrees was scored as standing on the other leg).
"""

from __future__ import annotations

import numpy as np

from balance.errors import VideoError
from balance.pose import landmarks as lm
from balance.pose.estimate import PoseTrack

# The trunk's direction (shoulder centre to hip centre) points down the picture when the person stands. Its
# median over a clip is 1-16 degrees from straight down in the MANIFEST clips filmed at eye level, and up to 46 in
# the Pose2Sim balancing trial (a high camera, a person leaning hard to recover): a lying (90) or upside-down (180)
# picture is far beyond. The cut-off sits between the steepest upright clip and lying sideways.
MAX_TILT_DEG = 65.0


def trunk_tilt_deg(track: PoseTrack) -> np.ndarray:
    """Per detected frame, the trunk's angle from straight down the picture, 0-180 degrees (180: upside down)."""
    xy = track.image_xy[track.detected]
    shoulders = xy[:, [lm.SHOULDER["left"], lm.SHOULDER["right"]]].mean(axis=1)
    hips = xy[:, [lm.HIP["left"], lm.HIP["right"]]].mean(axis=1)
    down = hips - shoulders
    return np.degrees(np.arctan2(np.abs(down[:, 0]), down[:, 1]))


def require_upright(track: PoseTrack, clip_name: str) -> None:
    """Raise VideoError when the person lies sideways or upside down in most frames."""
    tilt = trunk_tilt_deg(track)
    if len(tilt) == 0:
        return
    median = float(np.median(tilt))
    if median <= MAX_TILT_DEG:
        return
    how = "upside down" if median > 180 - MAX_TILT_DEG else "lying sideways"
    raise VideoError(
        f"the person in {clip_name} is {how} in the picture (trunk {median:.0f} degrees from upright): "
        "the clip is turned without a rotation flag",
        "Turn the clip upright in a video editor or phone gallery, then analyse it again",
    )
