"""Timers, percentiles and load generators with honest units.

    with timer() as t: ...;  t.ms                      # wall time of a block
    percentiles(latencies_ms)                          # {"p50": .., "p90": .., "p99": .., "mean": ..}
    res = run_load(call, n=200, concurrency=8)         # threads; res.latencies_ms, res.start_ms, res.rps, res.errors
    mean_in_flight(res.start_ms, res.latencies_ms, keys, until_ms=max(res.start_ms))  # {key: time-averaged in flight}
    paced = run_paced(call, rate_per_s=40, duration_s=3)  # open loop at a steady rate; paced.t_s, .results
    paced = run_paced(call, rate_per_s=40, duration_s=3, poisson=True, seed=1)  # ... or Poisson arrivals
    with cpu_timer() as t: ...;  t.idle_fraction       # share of wall time this process spent not on CPU
    server_cpu_ms(lb)                                  # CPU ms a started server (and its workers) has used
    spans = timeline(call, n=12, concurrency=4)        # when each call was in flight, for plot.timeline
    res = http_load(lb.url, "/generate", [{"json": {"tokens": 10}}] * 100, concurrency=8)  # who answered, how fast
    ms = http_latencies({"direct": app.url, "via nginx": lb.url}, "/api/embed", rounds=500, body=b"{}")  # hop cost
    for x in progress(items, "warming the cache"): ... # a progress bar in notebooks and terminals
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

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
    """A progress bar while you wait; hidden when the book is built (LABSUPPORT_BATCH=1), where
    nobody watches and a finished bar would leave an empty box on the page."""
    import os  # noqa: PLC0415

    from tqdm.auto import tqdm  # noqa: PLC0415

    quiet = os.environ.get("LABSUPPORT_BATCH") == "1"
    return tqdm(iterable, desc=desc, total=total, leave=False, mininterval=0.5, disable=quiet, **kw)


@dataclass
class LoadResult:
    """``latencies_ms[k]``, ``start_ms[k]`` (when call k was sent, ms from the start of the load) and
    ``results[k]`` describe the same successful call; failed calls are only counted, in ``errors``."""

    latencies_ms: list[float] = field(default_factory=list)
    start_ms: list[float] = field(default_factory=list)
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
    t_load = time.perf_counter()

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
            res.start_ms.append((t0 - t_load) * 1000)
            res.results.append(out)

    if concurrency <= 1:
        for item in items:
            one(item)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, items))
    res.elapsed_s = time.perf_counter() - t_load
    return res


def mean_in_flight(start_ms, latencies_ms, keys, from_ms: float = 0.0, until_ms: float | None = None) -> dict:
    """Time-averaged number of calls in flight, per key, between ``from_ms`` and ``until_ms``.

    Call k was open from ``start_ms[k]`` for ``latencies_ms[k]`` and belongs to ``keys[k]`` (say, the
    replica that served it). Each call adds the part of its time inside the window; the sum over the
    window's length is the key's average in flight (Little's law, measured rather than assumed).
    In a closed loop, ``until_ms=max(start_ms)`` stops at the last send: up to then every client has a
    call open, and after it the clients drain one by one. Default ``until_ms``: the last call's end.
    """
    start = np.asarray(start_ms, dtype=float)
    end = start + np.asarray(latencies_ms, dtype=float)
    keys = np.asarray(keys)
    if until_ms is None:
        until_ms = float(end.max()) if end.size else from_ms
    if until_ms <= from_ms:
        raise ValueError(f"mean_in_flight: the window [{from_ms}, {until_ms}] ms is empty; pass until_ms > from_ms")
    overlap = np.clip(np.minimum(end, until_ms) - np.maximum(start, from_ms), 0, None)
    return {k: float(overlap[keys == k].sum() / (until_ms - from_ms)) for k in dict.fromkeys(keys.tolist())}


@dataclass
class PacedResult:
    """What ``run_paced`` saw: per call, when it was sent (s from the start), its result and latency."""

    t_s: list[float] = field(default_factory=list)
    results: list = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    start_wall: float = 0.0


def run_paced(call, rate_per_s: float, duration_s: float, concurrency: int = 8, poisson: bool = False,
              seed: int = 0) -> PacedResult:
    """Send ``call(i)`` at a steady ``rate_per_s`` for ``duration_s`` (open loop, like real users);
    ``poisson=True`` draws the gaps at random instead (independent users, seeded).

    A slow answer does not delay the next send (up to ``concurrency`` calls in flight). Results come
    back in send order; a call that raises gives ``None`` and counts as an error. ``start_wall`` is
    the run's start on the wall clock (``time.time()``), to line it up with a server's own gauges.
    """
    if poisson:
        gaps = np.random.default_rng(seed).exponential(1 / rate_per_s, size=int(rate_per_s * duration_s * 2) + 20)
        due = [float(t) for t in np.cumsum(gaps) if t < duration_s]
    else:
        due = [i / rate_per_s for i in range(int(round(rate_per_s * duration_s)))]
    n = len(due)
    start, start_wall = time.perf_counter() + 0.02, time.time() + 0.02

    def one(i):
        wait = start + due[i] - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        sent = time.perf_counter()
        try:
            out, err = call(i), False
        except Exception:  # noqa: BLE001 - counted, not raised
            out, err = None, True
        return sent - start, out, (time.perf_counter() - sent) * 1000, err

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        rows = list(pool.map(one, range(n)))
    res = PacedResult(start_wall=start_wall)
    for t, out, ms, err in rows:
        res.t_s.append(t)
        res.results.append(out)
        res.latencies_ms.append(ms)
        res.errors += err
    return res


class cpu_timer:
    """``with cpu_timer() as t:`` then ``t.wall_s``, ``t.cpu_s`` (CPU time of this process, all its
    threads) and ``t.idle_fraction = 1 - cpu_s / wall_s``: the share of the time it spent waiting.
    (With several busy threads cpu_s can exceed wall_s, and the idle fraction goes negative.)"""

    def __enter__(self):
        self._wall0, self._cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall_s = time.perf_counter() - self._wall0
        self.cpu_s = time.process_time() - self._cpu0
        self.idle_fraction = 1 - self.cpu_s / self.wall_s if self.wall_s > 0 else float("nan")


def timeline(call, n: int, concurrency: int = 1) -> list[dict]:
    """Run ``call(i)`` n times from ``concurrency`` threads and note when each one ran:
    ``[{"lane": thread 0.., "start_ms": .., "end_ms": .., "ok": bool}]``, times from the first send."""
    lanes: dict[int, int] = {}
    spans = []
    lock = threading.Lock()
    t_start = time.perf_counter()

    def one(i):
        with lock:
            lane = lanes.setdefault(threading.get_ident(), len(lanes))
        t0 = time.perf_counter()
        try:
            call(i)
            ok = True
        except Exception:  # noqa: BLE001 - shown as a failed span
            ok = False
        t1 = time.perf_counter()
        with lock:
            spans.append({"lane": lane, "start_ms": (t0 - t_start) * 1000,
                          "end_ms": (t1 - t_start) * 1000, "ok": ok})

    if concurrency <= 1:
        for i in range(n):
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, range(n)))
    return sorted(spans, key=lambda s: s["start_ms"])


def http_load(base_url: str, path: str, requests: list[dict], concurrency: int = 8, timeout_s: float = 30.0,
              reply_header: str = "x-replica") -> LoadResult:
    """POST each item of ``requests`` (httpx keyword arguments: ``json=``, ``headers=``) to
    ``base_url + path`` from ``concurrency`` threads over keep-alive connections (closed loop, like
    ``run_load``).

    ``res.results[k]`` pairs with ``res.latencies_ms[k]``: ``(index into requests, reply_header value)``,
    e.g. which replica answered. An HTTP error status (>= 400) or an exception counts in ``res.errors``.
    """
    import httpx  # noqa: PLC0415

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=base_url, timeout=timeout_s, limits=limits) as client:

        def call(k):
            r = client.post(path, **requests[k])
            r.raise_for_status()
            return k, r.headers.get(reply_header)

        return run_load(call, n=len(requests), concurrency=concurrency)


def http_latencies(urls: dict, path: str = "/", rounds: int = 500, body: bytes | None = None,
                   method: str = "POST", seed: int = 42) -> dict:
    """Latency (ms) of one small request to each of ``urls`` ({name: url}), round after round.

    Interleaved in a shuffled order each round, so a busy moment on the laptop (or the one call after
    a slow one) hits every path alike; over kept-alive connections with the lightest client there is
    (``http.client``), so what is measured is the server and the hops in between, not the client
    library. Returns ``{name: [ms, ...]}``.
    """
    import http.client  # noqa: PLC0415
    import random  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    conns = {name: http.client.HTTPConnection(urlsplit(u).hostname, urlsplit(u).port, timeout=10)
             for name, u in urls.items()}
    headers = {"Content-Type": "application/json"} if body is not None else {}
    out = {name: [] for name in urls}
    try:
        order = list(conns.items())
        shuffle = random.Random(seed).shuffle
        for _ in progress(range(rounds), "rounds"):
            shuffle(order)
            for name, conn in order:
                t0 = time.perf_counter()
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                out[name].append((time.perf_counter() - t0) * 1000)
                if resp.status >= 400:
                    raise RuntimeError(f"{name}: {method} {path} answered HTTP {resp.status}")
    finally:
        for conn in conns.values():
            conn.close()
    return out


def _proc_cpu_ms(proc) -> float:
    """Linux: /proc/<pid>/schedstat (nanoseconds on CPU); elsewhere psutil's user + system clock ticks."""
    try:
        return int(Path(f"/proc/{proc.pid}/schedstat").read_text().split()[0]) / 1e6
    except (OSError, ValueError, IndexError):
        t = proc.cpu_times()
        return (t.user + t.system) * 1000


def server_cpu_ms(server) -> float:
    """CPU milliseconds used so far by a started server's process and all its children (nginx workers).

    Take it before and after N requests: the difference over N is the server's CPU per request (chapter 5,
    "L4 and L7"). Where only clock ticks are available, send thousands of requests."""
    import psutil  # noqa: PLC0415

    main = psutil.Process(server.proc.pid)
    total = 0.0
    for proc in [main, *main.children(recursive=True)]:
        try:
            total += _proc_cpu_ms(proc)
        except psutil.NoSuchProcess:
            continue
    return total
