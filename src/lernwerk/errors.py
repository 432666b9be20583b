"""The errors lernwerk raises on purpose.

Every error a user can cause is a `LernwerkError`. Faces map them once: the CLI to
exit code 2 (or 1 for a failed run), the server to an HTTP status. Errors carry the
thing they are about (`where`: a field, a file, a row, a layer) and pickle across the
worker-process boundary, so their constructor takes only plain values.
"""

from __future__ import annotations


class LernwerkError(Exception):
    """Root of every error lernwerk raises on purpose.

    Args:
        message: What is wrong, what was received and, where known, the fix.
        where: The field, file, row or layer the error is about, if any.
    """

    http_status = 400

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message, where)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        if self.where and self.where not in self.message:
            return f"{self.where}: {self.message}"
        return self.message

    def to_dict(self) -> dict[str, str | None]:
        return {"error": type(self).__name__, "message": str(self), "where": self.where}


class SpecError(LernwerkError):
    """A model spec, training config or other user-written spec is invalid."""

    http_status = 422


class DataError(LernwerkError):
    """A dataset, file or input sample is unreadable or does not fit."""

    http_status = 422


class NotFound(LernwerkError):
    """A named thing (dataset, run, preset, file) does not exist."""

    http_status = 404


class Forbidden(LernwerkError):
    """The requester may not do this (a workshop participant asking for the trainer's view)."""

    http_status = 403


class Conflict(LernwerkError):
    """The request contradicts the current state (e.g. resuming a finished run)."""

    http_status = 409


class RunFailed(LernwerkError):
    """Training started but could not finish (e.g. the loss became NaN)."""

    http_status = 500


class ExportFailed(LernwerkError):
    """An export could not be written faithfully (e.g. its parity check failed); nothing
    of it is left behind."""

    http_status = 422
