"""Injected latency and failures on the sandbox API, for reliability tests and benchmarks."""

from __future__ import annotations

import random
import threading
import time

from flask import Response, g, jsonify

FAULT_KINDS = ("500", "503", "timeout")


class Faults:
    """Latency added to every API call and a share of calls that fail (500, 503 or a hang)."""

    def __init__(self, latency: float = 0.0, error_rate: float = 0.0,
                 kinds: tuple[str, ...] = FAULT_KINDS, hang_seconds: float = 30.0,
                 seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.hang_seconds = hang_seconds
        self.spike_rate, self.spike_seconds = 0.0, 0.0
        self.set(latency=latency, error_rate=error_rate, kinds=kinds)

    def set_spikes(self, rate: float, seconds: float) -> None:
        """A share of calls answer `seconds` late: half wait before doing the work, half after
        it (the work is done, the answer arrives late), as a busy server does."""
        if not 0 <= rate <= 1 or seconds < 0:
            raise ValueError("spike rate must be between 0 and 1, seconds not negative")
        with self._lock:
            self.spike_rate, self.spike_seconds = rate, seconds

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
        """Sleep the latency; then maybe fail. Returns the failure reply, or None to go on.

        A spike that comes after the work is left in `g.late_by` for `answer_late()`.
        """
        with self._lock:
            latency, rate, kinds = self.latency, self.error_rate, self.kinds
            failing = rate > 0 and self._random.random() < rate
            kind = self._random.choice(kinds) if failing else None
            spiking = self.spike_rate > 0 and self._random.random() < self.spike_rate
            spike_after = self._random.random() < 0.5
            spike = self.spike_seconds if spiking else 0.0
        if spike and spike_after:
            g.late_by = spike
        elif spike:
            time.sleep(spike)
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


def answer_late(response: Response) -> Response:
    """After-request: hold back an answer whose work is done, when a spike said so."""
    if g.get("late_by"):
        time.sleep(g.late_by)
    return response


def _failure(status: int, code: str, message: str) -> Response:
    response = jsonify({"errorCode": code, "message": message})
    response.status_code = status
    return response
