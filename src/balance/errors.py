"""Typed exceptions for everything a user can get wrong: bad options, bad files, no person, no one-leg stance.

Each error says what went wrong (`what`) and what to do (`todo`), in words that fit any front end. Where the
fix is a different value of one input, `option` names it (`"week"`, `"out"`, `"db"`, `"model"`, ...), and the
front end phrases it its own way: the CLI as `--week`, the web app as its form field. `exit_code` is the
CLI's exit status (README, "When something is wrong"); `http_status` the web app's response status.
"""

from __future__ import annotations


class BalanceError(Exception):
    """Base class: a problem with the user's input, reported in one line, never a traceback."""

    exit_code = 2
    http_status = 400

    def __init__(self, what: str, todo: str, *, option: str | None = None) -> None:
        super().__init__(f"{what}. {todo}")
        self.what = what
        self.todo = todo
        self.option = option


class UsageError(BalanceError):
    """An option out of range or of the wrong kind (a frame rate, a height, a number of workers)."""

    exit_code = 2
    http_status = 422


class VideoError(BalanceError):
    """The file is missing, empty, not a video, a still image, or cannot be decoded."""

    exit_code = 3
    http_status = 415


class PoseError(BalanceError):
    """No person, several people with no clear subject, or the feet are out of frame."""

    exit_code = 4
    http_status = 422


class StanceError(BalanceError):
    """No single-leg stance long enough to score was found."""

    exit_code = 5
    http_status = 422


class ModelError(BalanceError):
    """The pose model named by the options cannot be found or loaded."""

    exit_code = 6
    http_status = 500


class StoreError(BalanceError):
    """The history database cannot be written or read, or refuses a value (a week out of range, a name)."""

    exit_code = 7
    http_status = 409


class ResultsError(BalanceError):
    """The results folder cannot be written, or a saved results document is not valid."""

    exit_code = 7
    http_status = 500


class PairError(BalanceError):
    """Two clips given as front and side views do not make a pair: two front views, no common time, other people."""

    exit_code = 10
    http_status = 422


class DisplayError(BalanceError):
    """A camera window was asked for on a machine with no display."""

    exit_code = 8
    http_status = 500
