"""Client side of idempotent retries: the same request, sent until an answer arrives.

    out = send_until_answered(proxy.url, "POST", "/payments", json={...}, key="pay-42")  # Idempotency-Key: pay-42
    out.attempts, out.status, out.body, out.timeouts
    new_key()                                  # a fresh random key (one per *logical* operation, not per attempt)

The server side is ``labsupport/apps/resilience_payments.py``: the key row and the charge are written in
one PostgreSQL transaction under the key's primary-key constraint.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx


@dataclass
class Outcome:
    status: int
    body: dict
    attempts: int
    timeouts: int
    replayed: bool


def new_key() -> str:
    return uuid.uuid4().hex


def send_until_answered(base_url: str, method: str, path: str, json: dict, key: str | None = None,
                        timeout_s: float = 0.3, max_attempts: int = 20, backoff_s: float = 0.01) -> Outcome:
    """Send one request, one connection per attempt, retrying on timeouts and connection errors."""
    headers = {"Connection": "close", **({"Idempotency-Key": key} if key else {})}
    timeouts = 0
    for attempt in range(1, max_attempts + 1):
        try:
            resp = httpx.request(method, base_url + path, json=json, headers=headers, timeout=timeout_s)
            return Outcome(resp.status_code, resp.json(), attempt, timeouts,
                           resp.headers.get("Idempotent-Replayed") == "true")
        except (httpx.TimeoutException, httpx.TransportError):
            timeouts += 1
            time.sleep(backoff_s * attempt)
    raise RuntimeError(f"no answer after {max_attempts} attempts")
