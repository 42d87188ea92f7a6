"""HTTP drivers for the resilience labs (clients only; the servers are labsupport.apps.resilience_*).

    rows = burst(apis.urls, "/api/fixed?limit=20", n=40, user="u1", concurrency=10)  # spread over replicas
    rows[0] -> {"t": 1767..., "status": 200, "retry_after": None, "replica": "resilience_api-0"}
    sleep_until(t_wall)                                   # wait for a wall-clock instant (a window edge)
    admitted_within(rows, span_s=1.0)                     # most 200s in any span of that length
    rows = await users(chain.url, n=5, deadline_s=1.0)    # users who give up after 1 s (chain lab)
    rows = await open_loop_on_pace(url, 160, 2.5, 1.0)     # Poisson arrivals; re-run if the client fell behind
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

_local = threading.local()


def _client() -> httpx.Client:
    c = getattr(_local, "client", None)
    if c is None:
        c = _local.client = httpx.Client(timeout=10.0)
    return c


def sleep_until(t_wall: float) -> None:
    """Sleep until ``time.time()`` reaches ``t_wall``."""
    while (left := t_wall - time.time()) > 0:
        time.sleep(min(left, 0.05))


def burst(urls: list[str], path: str, n: int, user: str, concurrency: int = 10, start_at: float | None = None) -> list[dict]:
    """Send ``n`` GETs of ``path`` (request i to ``urls[i % len(urls)]``) from ``concurrency`` threads."""
    if start_at is not None:
        sleep_until(start_at)

    def one(i):
        t = time.time()
        resp = _client().get(urls[i % len(urls)] + path, headers={"X-User": user})
        return {"t": t, "status": resp.status_code, "retry_after": resp.headers.get("Retry-After"),
                "retry_after_ms": resp.headers.get("X-Retry-After-Ms"),
                "replica": resp.json().get("replica")}

    return list(_pool(concurrency).map(one, range(n)))


_POOLS: dict = {}


def _pool(concurrency: int) -> ThreadPoolExecutor:
    """One long-lived pool per size, so each thread keeps its HTTP connections between bursts."""
    if concurrency not in _POOLS:
        _POOLS[concurrency] = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="burst")
    return _POOLS[concurrency]


def admitted_within(rows: list[dict], span_s: float) -> int:
    """The largest number of admitted (200) requests sent within any ``span_s`` seconds."""
    ts = sorted(r["t"] for r in rows if r["status"] == 200)
    best, j = 0, 0
    for i, t in enumerate(ts):
        while ts[j] < t - span_s:
            j += 1
        best = max(best, i - j + 1)
    return best


async def fleet(url: str, n_clients: int, policy: str, seed: int = 0, attempts: int = 12, budget=None,
                retrying=None) -> list[dict]:
    """``n_clients`` asyncio clients send one GET each at once and retry with ``policy``
    (``labsupport.resilience.retry``), or with ``retrying``: a factory of tenacity ``AsyncRetrying`` objects.
    Returns, per client: final status, attempts, and the wall time it finished."""
    import asyncio  # noqa: PLC0415
    import random  # noqa: PLC0415

    from .retry import call_with_retries  # noqa: PLC0415

    limits = httpx.Limits(max_connections=n_clients + 10, max_keepalive_connections=n_clients + 10)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        async def send():
            try:
                return (await http.get(url)).status_code
            except httpx.TransportError:  # a connection reset under load: retried like a 503
                return 599

        async def one(i):
            rng = random.Random(seed * 100_003 + i)
            if retrying is None:
                status, n = await call_with_retries(send, policy, rng, attempts=attempts, budget=budget)
            else:
                r = retrying()
                status = await r(send)
                n = r.statistics["attempt_number"]
            return {"status": status, "attempts": n, "done": time.time()}

        return await asyncio.gather(*(one(i) for i in range(n_clients)))


async def open_loop(url: str, rate_per_s: float, duration_s: float, deadline_s: float, seed: int = 0) -> list[dict]:
    """Poisson arrivals at ``rate_per_s`` for ``duration_s`` (open loop: nobody waits for an answer before
    sending); each request gives up after ``deadline_s``. Per request: status (0 = gave up), latency,
    ``lag_s``: how late it left against its schedule, and ``outside_s``: its latency less the time the server
    says it spent inside its app (``X-Server-Ms``), i.e. time in this client, the kernel's socket queues and
    the loopback. Both stay at a few ms unless the machine's CPU, not the server's queue, is the bottleneck."""
    import asyncio  # noqa: PLC0415
    import random  # noqa: PLC0415

    rng = random.Random(seed)
    gaps, t = [], 0.0
    while (t := t + rng.expovariate(rate_per_s)) < duration_s:
        gaps.append(t)
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=deadline_s, limits=limits) as http:
        start = time.perf_counter()

        async def one(at):
            await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
            sent = time.perf_counter()
            server_s = None
            try:
                resp = await http.get(url)
                status = resp.status_code
                if "X-Server-Ms" in resp.headers:
                    server_s = float(resp.headers["X-Server-Ms"]) / 1000
            except httpx.HTTPError:
                status = 0
            latency = time.perf_counter() - sent
            return {"t": at, "status": status, "latency_s": latency, "lag_s": sent - start - at,
                    "outside_s": None if server_s is None else latency - server_s}

        return await asyncio.gather(*(one(at) for at in gaps))


def lag_p95(rows: list[dict]) -> float:
    """The 95th percentile, over ``open_loop`` rows, of the time a request lost outside the server's app:
    leaving late, or waiting in this client and the kernel (``outside_s``, when the server reports it)."""
    lags = sorted(r["lag_s"] + (r["outside_s"] or 0.0) for r in rows)
    return lags[min(len(lags) - 1, int(0.95 * len(lags)))] if lags else 0.0


async def open_loop_on_pace(url: str, rate_per_s: float, duration_s: float, deadline_s: float, seed: int = 0,
                            max_lag_s: float = 0.05, tries: int = 3, idle_url: str | None = None) -> list[dict]:
    """``open_loop``, run again (up to ``tries`` times) when requests lost time outside the server's app
    (``lag_p95`` over ``max_lag_s``): a busy machine then offers less load than asked, and requests queue in
    the kernel where the server cannot count them, so the point measures the machine, not the queue. Before a re-run it waits until ``idle_url``
    (a JSON ``{"waiting": n}`` endpoint) shows an empty queue. The rows of the last run are returned."""
    import asyncio  # noqa: PLC0415

    for attempt in range(1, tries + 1):
        rows = await open_loop(url, rate_per_s, duration_s, deadline_s, seed=seed)
        lag = lag_p95(rows)
        if lag <= max_lag_s or attempt == tries:
            return rows
        print(f"  (the machine was busy: 5% of requests lost over {lag * 1000:.0f} ms outside the server; "
              f"this point runs again, try {attempt + 1} of {tries})")
        for _ in range(100):  # let the server finish what the last run queued
            if idle_url is None or httpx.get(idle_url, timeout=5).json().get("waiting", 0) == 0:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
    return rows


async def users(url: str, n: int, deadline_s: float, rate_per_s: float | None = None,
                send_deadline: bool = False, prefix: str = "u") -> list[dict]:
    """``n`` users each send one GET ``url`` with ``X-Request-Id: <prefix><i>`` and give up after ``deadline_s``
    (all at once, or ``rate_per_s`` apart); ``send_deadline`` also tells the server the time left
    (``X-Deadline-Ms``). Per user: id, wall-clock sent and end, status (0 = gave up), wait_s."""
    import asyncio  # noqa: PLC0415

    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    async with httpx.AsyncClient(timeout=deadline_s, limits=limits) as http:
        start = time.perf_counter()

        async def one(i):
            if rate_per_s:
                await asyncio.sleep(max(0.0, start + i / rate_per_s - time.perf_counter()))
            headers = {"X-Request-Id": f"{prefix}{i}"}
            if send_deadline:
                headers["X-Deadline-Ms"] = f"{deadline_s * 1000:.0f}"
            sent, t0 = time.time(), time.perf_counter()
            try:
                status = (await http.get(url, headers=headers)).status_code
            except httpx.TimeoutException:
                status = 0
            wait = time.perf_counter() - t0
            return {"id": f"{prefix}{i}", "t_sent": sent, "t_end": sent + wait, "status": status, "wait_s": wait}

        return await asyncio.gather(*(one(i) for i in range(n)))
