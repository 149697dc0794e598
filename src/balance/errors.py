"""Typed exceptions for everything a user can get wrong: bad files, no person, no one-leg stance.

Each carries a one-line message saying what went wrong and what to do; the CLI prints it as is.
"""

from __future__ import annotations


class BalanceError(Exception):
    """Base class: a problem with the user's input, reported in one line, never a traceback."""

    exit_code = 2

    def __init__(self, what: str, todo: str) -> None:
        super().__init__(f"{what}. {todo}")
        self.what = what
        self.todo = todo


class VideoError(BalanceError):
    """The file is missing, empty, not a video, a still image, or cannot be decoded."""

    exit_code = 3


class PoseError(BalanceError):
    """No person, several people with no clear subject, or the feet are out of frame."""

    exit_code = 4


class StanceError(BalanceError):
    """No single-leg stance long enough to score was found."""

    exit_code = 5


class ModelError(BalanceError):
    """The pose model named on the command line cannot be found or loaded."""

    exit_code = 6


class StoreError(BalanceError):
    """The results folder or database cannot be written."""

    exit_code = 7


class DisplayError(BalanceError):
    """A camera window was asked for on a machine with no display."""

    exit_code = 8
