"""Injected latency and failures on the sandbox API, for reliability tests and benchmarks."""

from __future__ import annotations

import random
import threading
import time

from flask import Response, jsonify

FAULT_KINDS = ("500", "503", "timeout")


class Faults:
    """Latency added to every API call and a share of calls that fail (500, 503 or a hang)."""

    def __init__(self, latency: float = 0.0, error_rate: float = 0.0,
                 kinds: tuple[str, ...] = FAULT_KINDS, hang_seconds: float = 30.0,
                 seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.hang_seconds = hang_seconds
        self.set(latency=latency, error_rate=error_rate, kinds=kinds)

    def set(self, *, latency: float | None = None, error_rate: float | None = None,
            kinds: tuple[str, ...] | None = None) -> None:
        """Change the faults at run time; values are checked."""
        with self._lock:
            if latency is not None:
                if latency < 0:
                    raise ValueError("latency must not be negative")
                self.latency = latency
            if error_rate is not None:
                if not 0 <= error_rate <= 1:
                    raise ValueError("error rate must be between 0 and 1")
                self.error_rate = error_rate
            if kinds is not None:
                if not kinds or set(kinds) - set(FAULT_KINDS):
                    raise ValueError(f"fault kinds must be among {', '.join(FAULT_KINDS)}")
                self.kinds = tuple(kinds)

    def describe(self) -> dict:
        """The current settings."""
        with self._lock:
            return {"latency": self.latency, "errorRate": self.error_rate, "kinds": list(self.kinds)}

    def apply(self) -> Response | None:
        """Sleep the latency; then maybe fail. Returns the failure reply, or None to go on."""
        with self._lock:
            latency, rate, kinds = self.latency, self.error_rate, self.kinds
            failing = rate > 0 and self._random.random() < rate
            kind = self._random.choice(kinds) if failing else None
        if latency:
            time.sleep(latency)
        if kind is None:
            return None
        if kind == "timeout":
            time.sleep(self.hang_seconds)  # longer than any sane client read timeout
            return _failure(504, "GatewayTimeout", "Injected timeout.")
        status = int(kind)
        return _failure(status, "ServerError" if status == 500 else "ServiceUnavailable",
                        f"Injected failure ({status}).")


def _failure(status: int, code: str, message: str) -> Response:
    response = jsonify({"errorCode": code, "message": message})
    response.status_code = status
    return response
