"""Typed errors for DeskDirector calls; messages never carry a token."""

from __future__ import annotations


class DeskDirectorError(Exception):
    """A DeskDirector call that did not succeed."""

    status_code = 502
    # Set by ddsite when the form that led to this error was kept as a draft.
    draft_saved = False
    # Set by ddsite on a failed send: "no" (certainly not sent), "unknown", or "already" (sent
    # before, by an earlier request with the same form).
    sent: str | None = None

    def __init__(self, message: str, *, upstream_status: int | None = None,
                 field_errors: dict[str, list[str]] | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.upstream_status = upstream_status
        self.field_errors = field_errors or {}
        self.request_id = request_id


class TokenRejected(DeskDirectorError):
    """401: the access token is expired, revoked or not DeskDirector's."""

    status_code = 401


class Forbidden(DeskDirectorError):
    """403: the user may not do this."""

    status_code = 403


class NotFound(DeskDirectorError):
    """404: the thing does not exist, or the user may not see it."""

    status_code = 404


class Invalid(DeskDirectorError):
    """400/409/422: DeskDirector refused the input; field messages are kept."""

    status_code = 422


class Unavailable(DeskDirectorError):
    """5xx, timeout or connection failure: DeskDirector could not answer."""

    status_code = 502

    def __init__(self, message: str, *, timed_out: bool = False, retryable: bool = False,
                 **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.timed_out = timed_out
        self.retryable = retryable
        if timed_out:
            self.status_code = 504


class UnknownShape(DeskDirectorError):
    """DeskDirector answered, but in a form ddsite does not know (a moved or different endpoint)."""

    status_code = 502

    def __init__(self, operation: str, detail: str, **kwargs) -> None:
        super().__init__(f"DeskDirector answered {operation} in a form ddsite does not know: "
                         f"{detail}", **kwargs)
        self.operation = operation
        self.detail = detail
