"""Timers, percentiles and load generators with honest units.

    with timer() as t: ...;  t.ms                      # wall time of a block
    percentiles(latencies_ms)                          # {"p50": .., "p90": .., "p99": .., "mean": ..}
    res = run_load(call, n=200, concurrency=8)         # threads; res.latencies_ms, res.rps, res.errors
    for x in progress(items, "warming the cache"): ... # a progress bar in notebooks and terminals
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np


class timer:
    """``with timer() as t:`` then ``t.s`` / ``t.ms``."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.s = time.perf_counter() - self.start
        self.ms = self.s * 1000


def percentiles(samples, ps=(50, 90, 99)) -> dict:
    arr = np.asarray(list(samples), dtype=float)
    if arr.size == 0:
        return {f"p{p}": float("nan") for p in ps} | {"mean": float("nan")}
    return {f"p{p}": float(np.percentile(arr, p)) for p in ps} | {"mean": float(arr.mean())}


def progress(iterable, desc: str = "", total: int | None = None, **kw):
    from tqdm.auto import tqdm  # noqa: PLC0415

    return tqdm(iterable, desc=desc, total=total, leave=False, mininterval=0.5, **kw)


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    results: list = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    def summary(self) -> dict:
        return {"requests": len(self.latencies_ms), "errors": self.errors, "rps": self.rps,
                **{f"{k}_ms": v for k, v in percentiles(self.latencies_ms).items()}}


def run_load(call, n: int, concurrency: int = 1, args=None) -> LoadResult:
    """Call ``call(i)`` n times from ``concurrency`` threads; time each call.

    Exceptions count as errors (not latencies). ``args`` (a list of n items) replaces ``i``.
    """
    res = LoadResult()
    lock = threading.Lock()
    items = list(args) if args is not None else list(range(n))

    def one(item):
        t0 = time.perf_counter()
        try:
            out = call(item)
        except Exception:  # noqa: BLE001 - the lab counts failures, it does not crash on them
            with lock:
                res.errors += 1
            return
        dt = (time.perf_counter() - t0) * 1000
        with lock:
            res.latencies_ms.append(dt)
            res.results.append(out)

    t0 = time.perf_counter()
    if concurrency <= 1:
        for item in items:
            one(item)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, items))
    res.elapsed_s = time.perf_counter() - t0
    return res
