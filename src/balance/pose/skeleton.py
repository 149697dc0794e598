"""The skeleton every overlay draws (annotated video, live window, web page): which landmarks are joined, and
the colour of each thing drawn.

Body and limbs only: the face and finger landmarks add clutter, not information about balance.
"""

from __future__ import annotations

from balance.pose import landmarks as lm

Bone = tuple[int, int]
# Trunk, arms and the hand's direction (wrist to index knuckle), as BlazePose indices.
BODY_BONES: tuple[Bone, ...] = (
    (11, 12),
    (11, 23),
    (12, 24),
    (23, 24),
    (11, 13),
    (13, 15),
    (15, 19),
    (12, 14),
    (14, 16),
    (16, 20),
)
LEG_BONES: dict[str, tuple[Bone, ...]] = {
    side: ((lm.HIP[side], lm.KNEE[side]), (lm.KNEE[side], lm.ANKLE[side])) for side in lm.SIDES
}
FOOT_BONES: dict[str, tuple[Bone, ...]] = {
    side: ((lm.ANKLE[side], lm.HEEL[side]), (lm.HEEL[side], lm.FOOT_INDEX[side]), (lm.ANKLE[side], lm.FOOT_INDEX[side]))
    for side in lm.SIDES
}

Rgb = tuple[int, int, int]
# The overlays' colours, one per thing drawn, the same in the annotated video, the live window and the Record
# page (RGB here; OpenCV draws BGR: `bgr`). Saturated hues apart from one another (gold, sky blue, red, green,
# orange), each drawn over the dark outline so it reads on light and dark backgrounds.
COLOURS: dict[str, Rgb] = {
    "body": (255, 255, 255),  # trunk, arms, and both legs while no leg is the stance leg
    "stance": (255, 215, 0),  # the stance leg and foot, and the stance leg's name and timer
    "free": (90, 180, 235),  # the lifted leg
    "com": (235, 40, 40),  # centre of mass, its trail and plumb line, the sway meter
    "base": (90, 225, 90),  # base of support
    "flag": (255, 140, 0),  # flag labels
    "outline": (20, 20, 20),  # the dark edge under every mark
}


def limb_bones(side: str) -> tuple[Bone, ...]:
    """One leg's bones, hip to toe."""
    return LEG_BONES[side] + FOOT_BONES[side]


def limb_role(side: str, stance: str | None) -> str:
    """The colour (COLOURS key) of one leg: the stance leg's, the free leg's while the other stands, else the body's."""
    if stance is None:
        return "body"
    return "stance" if side == stance else "free"


def bgr(rgb: Rgb) -> Rgb:
    return rgb[2], rgb[1], rgb[0]


def overlay_spec() -> dict[str, object]:
    """The skeleton and colours as JSON, for the Record page's drawing (static/record.js)."""
    return {
        "body": [list(b) for b in BODY_BONES],
        "limbs": {side: [list(b) for b in limb_bones(side)] for side in lm.SIDES},
        "ankle": {side: lm.ANKLE[side] for side in lm.SIDES},
        "colours": {name: "#{:02x}{:02x}{:02x}".format(*rgb) for name, rgb in COLOURS.items()},
    }
