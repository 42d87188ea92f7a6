"""The client's own tally of responses per API key and status, to check a gateway's meter against.

    receipts = Receipts(KEYS)                # KEYS: {api key: tier}, as given to the gateway
    client = httpx.Client(base_url=gw.url, event_hooks={"response": [receipts]})
    receipts.counts()                        # {"key-alice": {"200": 7, "429": 44}, "-": {"401": 2}}

Unknown or missing keys are tallied as "-", as both gateways (nginx and ``apps.gateway``) log them.
"""

from __future__ import annotations

import threading

import httpx


class Receipts:
    """The client's own tally of responses per API key and status (an httpx response hook)."""

    def __init__(self, keys: dict, header: str = "X-Api-Key"):
        self.keys, self.header, self._counts = keys, header, {}
        self._lock = threading.Lock()  # httpx calls hooks from every thread that shares the client

    def __call__(self, response: httpx.Response) -> None:
        key = response.request.headers.get(self.header, "")
        status = str(response.status_code)
        with self._lock:
            per_key = self._counts.setdefault(key if key in self.keys else "-", {})
            per_key[status] = per_key.get(status, 0) + 1

    def counts(self) -> dict:
        with self._lock:
            return {k: dict(v) for k, v in self._counts.items()}
