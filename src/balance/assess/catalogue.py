"""One catalogue of the flags: for each code, the short label drawn on the video, the title and the advice of
the report (what it means for the foot-strength programme), and where on the body the video pins it.

balance.assess.flags decides when a flag fires and words its evidence; this table is every other word a user
reads about it, so the video, the report and the web pages say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# What the front ends say instead of a stability score that is not judged (assess/score.py Score.judged).
NOT_JUDGED = (
    "the picture moved and nothing in it showed how, so the sway it reads is partly the camera's; film from a "
    "stand, or with some texture behind the person"
)

# ... and of where the wobble comes from: the shares are of the sway as read, the camera's motion in it.
WOBBLE_NOT_JUDGED = "not judged (the picture moved); the shares of the sway as read"


# How a hold ended (balance.stance.trials.ended_by), as the front ends finish "held ... s": only touch_down is a
# measured hold; the others are lower bounds.
HOLD_ENDED = {
    "touch_down": "until the free foot touched down",
    "clip_end": "until the clip ended",
    "someone_passed": "until another person overlapped them in the picture and hid the rest of the hold",
    "subject_lost": "until the person left the picture",
}


def no_flags(judged: bool) -> str:
    """What the front ends say of a trial that raised no flag ("none: ..." on a page, "No flags: ..." in the
    summary): a steady hold, or, where the sway was not judged (the picture moved), only that."""
    return ": steady, level and balanced" if judged else ", but the sway itself was not judged (the picture moved)"


def reported_value(score: Mapping[str, Any]) -> Any:
    """A results document's (analysis.json) score value, or None where it was not judged: what the history stores
    and the batch summary lists."""
    return score.get("value") if score.get("judged", True) else None


@dataclass(frozen=True)
class FlagWords:
    label: str  # a few words, drawn on the annotated video
    title: str  # the report's heading for the flag
    advice: str  # what it means for the runner, in the programme's terms
    anchor: str  # where the video pins it: com, foot, hip, trunk, arms, free_foot


FLAGS: dict[str, FlagWords] = {
    "wobble": FlagWords(
        "wobbly",
        "Wobbly",
        (
            "Your centre of mass moved faster than in a steady one-leg stance. The foot, the hips and the "
            "trunk are where the wobble comes from (see 'where the wobble comes from' above); the foot "
            "exercises work on exactly that, and four to six weeks of them should bring this down."
        ),
        "com",
    ),
    "fast_wobble": FlagWords(
        "jittery corrections",
        "Jittery corrections",
        (
            "Many small, quick corrections: the ankle and foot working hard to stay up. A stronger, better "
            "controlled foot makes them smaller and calmer, which is what the foot exercises train."
        ),
        "foot",
    ),
    "instability": FlagWords(
        "near loss of balance",
        "Near loss of balance",
        (
            "Your body swung off its line by more than half the foot's width within a second or two and had to "
            "be pulled back (arms, trunk or a hop): close to a step. Stand tall, shorten the hold if you need "
            "to, and build it up again as the foot exercises take effect."
        ),
        "com",
    ),
    "hip_drop": FlagWords(
        "hip drop",
        "Hip drop",
        (
            "The hip of the lifted leg sank: the standing leg's hip muscles are not holding the pelvis level."
            " Wobble from the hips is one of the three sources the programme targets; keep the pelvis level "
            "during the exercises (hands on the hips help you feel it)."
        ),
        "hip",
    ),
    "trunk_lean": FlagWords(
        "trunk lean",
        "Trunk lean",
        (
            "The upper body leaned or swayed to keep balance. The trunk is the third source of wobble; aim to"
            " stand tall and quiet and let the foot do the balancing."
        ),
        "trunk",
    ),
    "weight_outside": FlagWords(
        "weight on the outside",
        "Weight on the outside of the foot",
        (
            "Your weight sat towards the outside of the foot, as it does for many runners, clearly beyond what "
            "the camera's own error allows. Aim for the weight balanced over the tripod (outside ball, inside "
            "ball and the end of the big toe), centred in the forefoot."
        ),
        "foot",
    ),
    "weight_inside": FlagWords(
        "weight on the inside",
        "Weight on the inside of the foot",
        (
            "Your weight sat towards the inside (big-toe side) of the foot, clearly beyond what the camera's own "
            "error allows. Aim for the weight balanced over all three points of the tripod, centred in the "
            "forefoot, without rolling in."
        ),
        "foot",
    ),
    "foot_shift": FlagWords(
        "foot shifting",
        "Standing foot shifting",
        (
            "The standing foot moved: heel, ankle and toe shifted together and stayed shifted (heel or forefoot "
            "lifting, or sliding). A planted foot is the base of the whole stance; the foot exercises build the "
            "strength to keep it still."
        ),
        "foot",
    ),
    "hands_off_hips": FlagWords(
        "hands off the hips",
        "Hands off the hips",
        (
            "The hands came off the hips to help balance. The test asks for hands on hips so that results can"
            " be compared; keep them there next time, and compare like with like."
        ),
        "arms",
    ),
    "touch_down": FlagWords(
        "touch-down",
        "Touch-down",
        ("The lifted foot came down and ended the hold. Build the hold up gradually towards 30 s on each leg."),
        "free_foot",
    ),
    "asymmetry": FlagWords(
        "sides differ",
        "Sides differ",
        (
            "Both sides should be equal. Give the weaker side the same work, or a little more, and compare "
            "again after four to six weeks."
        ),
        "com",
    ),
}
DEFAULT_ADVICE = "Compare again after four to six weeks of the foot exercises."


def flag_words(code: str) -> FlagWords:
    """The catalogue's words for `code`; a code it does not know (a newer document) gets plain defaults."""
    if code in FLAGS:
        return FLAGS[code]
    title = code.replace("_", " ").capitalize() or "Flag"
    return FlagWords(title.lower(), title, DEFAULT_ADVICE, "com")
