"""The forms' text made into the library's option types, which check every range and rule; here only the
parsing: a blank field is absent, a number must read as one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from balance.errors import UsageError
from balance.history.model import Conditions
from balance.history.save import SaveOptions, birth_year_for
from balance.live.options import DEFAULT_DURATION_S, LiveOptions
from balance.pipeline import AnalysisOptions
from balance.web.security import form_value

N = TypeVar("N", int, float)


def number(text: str, what: str, kind: Callable[[str], N], option: str | None = None) -> N | None:
    """`text` as a number, None when blank; UsageError for text that is not one."""
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise UsageError(
            f"{what} {text!r} is not a number", f"Give the {what} as a number", option=option or what
        ) from None


def job_fields(form: Any) -> dict[str, Any]:
    """The person, week, height, notes, test conditions and age of an upload or a recording, checked as
    `balance analyze` checks its options: the fields a Job carries."""
    height = number(form_value(form, "height_cm"), "height", float, "height_cm")
    AnalysisOptions(height_cm=height)
    birth_year = birth_year_for(number(form_value(form, "age"), "age", int))
    saving = SaveOptions.given(
        form_value(form, "name"),
        number(form_value(form, "week"), "week", int),
        conditions=Conditions(form_value(form, "eyes"), form_value(form, "surface")),
        notes=form_value(form, "notes"),
        birth_year=birth_year,
    )
    if saving is None:
        return {"name": "", "week": None, "height_cm": height, "notes": ""}
    c = saving.conditions
    return {
        "name": saving.name,
        "week": saving.week,
        "height_cm": height,
        "notes": saving.notes,
        "eyes": c.eyes,
        "surface": c.surface,
        "birth_year": saving.birth_year,
    }


def live_options(form: Any) -> LiveOptions:
    """The stance leg(s) and seconds per leg of a recording."""
    duration = number(form_value(form, "duration"), "duration", float)
    return LiveOptions.parse(form_value(form, "leg"), DEFAULT_DURATION_S if duration is None else duration)
