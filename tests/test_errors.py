"""The error tree: every error has an exit code and an HTTP status, and the CLI names the option to change."""

from __future__ import annotations

import pytest

from balance import errors
from balance.cli.main import error_line

ALL = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.BalanceError)]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_error_has_codes_for_both_front_ends(cls: type[errors.BalanceError]) -> None:
    assert 2 <= cls.exit_code <= 10 and cls.exit_code != 9  # 9 is batch's "some clips failed" (docs/user-guide.md)
    assert 400 <= cls.http_status < 600


def test_the_cli_phrases_the_option_as_a_flag() -> None:
    exc = errors.StoreError("week 60 is outside 1-52", "Give the programme week, 1 to 52", option="week")
    assert error_line(exc) == "week 60 is outside 1-52. Give the programme week, 1 to 52 (--week)"
    assert error_line(errors.VideoError("x.mp4 is empty", "Record it again")) == "x.mp4 is empty. Record it again"
