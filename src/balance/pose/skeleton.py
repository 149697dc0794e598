"""The skeleton every overlay draws (annotated video, live window, web page): which landmarks are joined.

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
ALL_BONES: tuple[Bone, ...] = BODY_BONES + tuple(b for s in lm.SIDES for b in LEG_BONES[s] + FOOT_BONES[s])
