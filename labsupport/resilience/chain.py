"""A chain of real services that each call the next and retry (chapter 11, lab 6): policies, faults, counts.

    chain = Chain.start(("gateway", "model", "features"), bottom="store")  # 4 uvicorn processes, in a line
    chain.configure(tries=3, timeout_ms=300)              # every retrying layer alike
    chain.configure("gateway", tries=3, timeout_ms=1300)  # one layer
    chain.fault("hang")                                   # the bottom: ok | 503 | hang | flaky (p=0.05)
    m = await chain.run(n=5, deadline_s=1.0)   # users give up after 1 s; then wait, count, reset
    m["bottom_per_request"], m["after_gave_up_per_request"], m["wait_p50_s"], m["bottom_times_s"]
    chain.close()                                         # the servers stop with services.stop_all()

The servers are labsupport.apps.resilience_chain; the users are labsupport.resilience.clients.users.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from .. import services
from . import clients

APP = "labsupport.apps.resilience_chain:app"
DEFAULT = {"tries": 1, "timeout_ms": 1000, "backoff_ms": 20, "budget": None, "deadline": False}


class Chain:
    def __init__(self, group, layers: tuple[str, ...], bottom: str):
        self.group, self.layers, self.bottom = group, tuple(layers), bottom
        self.names = (*self.layers, bottom)
        self._runs = 0
        self.http = {name: srv.client(timeout=10) for name, srv in zip(self.names, group)}
        for name, below in zip(self.layers, group[1:]):
            self.http[name].post("/config", json={**DEFAULT, "downstream": below.url}).raise_for_status()

    @classmethod
    def start(cls, layers=("gateway", "model", "features"), bottom: str = "store") -> "Chain":
        """Start one process per layer and one for the bottom, all at once, and wire each to the next."""
        return cls(services.app(APP, replicas=len(layers) + 1, name="chain"), layers, bottom)

    @property
    def url(self) -> str:
        """Where the users call: the top layer's ``/call``."""
        return self.group[0].url + "/call"

    def configure(self, layer: str | None = None, **policy) -> None:
        """Set ``tries``, ``timeout_ms``, ``backoff_ms``, ``budget`` or ``deadline`` on one layer or all."""
        for name in [layer] if layer else self.layers:
            self.http[name].post("/config", json=policy).raise_for_status()

    def fault(self, mode: str, **kw) -> None:
        """What the bottom answers from now on; also releases the calls a previous "hang" was holding."""
        self.http[self.bottom].post("/fault", json={"mode": mode, **kw}).raise_for_status()

    def logs(self) -> dict:
        return {name: c.get("/log").json() for name, c in self.http.items()}

    def reset(self) -> None:
        """Release hung calls, clear every log (call between runs)."""
        self.fault("ok")
        for c in self.http.values():
            c.post("/log/reset").raise_for_status()

    async def settle(self, quiet_s: float = 0.4, max_s: float = 15.0) -> float:
        """Wait until no new call has reached the bottom for ``quiet_s`` (orphaned retries still run below
        a caller that gave up); returns how long that took."""
        t0 = last_change = time.perf_counter()
        seen = -1
        while time.perf_counter() - t0 < max_s:
            n = len(self.http[self.bottom].get("/log").json()["received"])
            if n != seen:
                seen, last_change = n, time.perf_counter()
            elif time.perf_counter() - last_change >= quiet_s:
                break
            await asyncio.sleep(0.05)
        return time.perf_counter() - t0

    async def run(self, n: int, deadline_s: float, rate_per_s: float | None = None, send_deadline: bool = False) -> dict:
        """One experiment: ``n`` users (clients.users), wait for the orphaned calls, count (measure), then
        release hung calls and clear the logs. Set the policies and the fault before."""
        self._runs += 1
        rows = await clients.users(self.url, n, deadline_s, rate_per_s, send_deadline, prefix=f"r{self._runs}-u")
        await self.settle()
        out = self.measure(rows)
        self.reset()
        return out

    def measure(self, rows: list[dict]) -> dict:
        """Count what the users' requests cost: calls that reached the bottom per request, those that
        arrived after the user had given up or been answered (wasted) and the latest of those (how long
        after its user it came), and what the users saw."""
        log = self.logs()
        end = {r["id"]: r["t_end"] for r in rows}
        bottom = [(t, rid) for t, rid in log[self.bottom]["received"] if rid in end]  # this run's calls only
        n = len(rows)
        late = [t - end[rid] for t, rid in bottom if t > end[rid]]
        t0 = min(r["t_sent"] for r in rows)
        return {"requests": n, "bottom_calls": len(bottom), "bottom_per_request": len(bottom) / n,
                "after_gave_up_per_request": len(late) / n, "late_max_s": max(late, default=0.0),
                "ok": sum(r["status"] == 200 for r in rows), "gave_up": sum(r["status"] == 0 for r in rows),
                "wait_p50_s": float(np.median([r["wait_s"] for r in rows])),
                "last_bottom_call_s": max((t for t, _ in bottom), default=t0) - t0,
                "bottom_times_s": sorted(t - t0 for t, _ in bottom),
                "sent": {name: log[name]["sent"] for name in self.layers},
                "budget_denied": {name: log[name]["budget_denied"] for name in self.layers}}

    def close(self) -> None:
        """Close the control clients (services.stop_all() stops the servers)."""
        for c in self.http.values():
            c.close()
