"""Graders for chapter 11, Resilience patterns (labs/11-resilience/01-05).

The reasoning behind each answer is in the lab's dropdown solution."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..check import Feedback, close_to, grader, one_of, same_set


# -- lab 1: rate limiting ---------------------------------------------------------------------------
@grader("resilience.fixed-window-burst")
def fixed_window_burst(answer) -> Feedback:
    """A fixed window of 100 requests per minute: the most it admits in any 60 seconds."""
    return close_to(answer, 200, rel=0.01, unit=" requests", hints={
        100: "100 is the most in one *aligned* window (12:00:00-12:01:00). A client can send 100 in the "
             "last second of one window and 100 in the first second of the next: 200 within two seconds.",
        101: "Close to the per-window count, but the counter resets at the window edge: a full second "
             "budget is available right after it.",
    })


@grader("resilience.bucket-burst")
def bucket_burst(answer) -> Feedback:
    """Token bucket, capacity 50, 10 tokens/s; idle for a minute, then 10 s flat out: requests admitted."""
    return close_to(answer, 150, rel=0.02, unit=" requests", hints={
        650: "The bucket never holds more than its capacity: a minute of idling fills it to 50, not 600.",
        100: "That counts only the refill during the 10 s; the bucket was full (50 tokens) when the burst began.",
        50: "That is only the stored burst; tokens keep arriving at 10 per second during the 10 s.",
    })


@grader("resilience.race-fix")
def race_fix(answer) -> Feedback:
    return one_of(answer, "c", {
        "a": "A lock inside each replica serialises that replica only; the other two still read the same "
             "count from Valkey at the same moment.",
        "b": "Reading twice narrows the window but does not close it: another replica can still increment "
             "between your second read and your write.",
        "c": "Right: INCR first and decide on the value it returns (or a Lua script). The server runs one "
             "command at a time, so no two requests can see the same count.",
        "d": "A shorter window changes the limit, not the race: two replicas can still read the same count.",
    })


# -- lab 1, build-it: a token bucket in Lua on a real Valkey ----------------------------------------
_CAP, _RATE = 5, 2.0  # tokens, tokens per second


def _run(take, r, key, now_ms, n=1):
    return [int(take(r, key, _CAP, _RATE, now_ms)) for _ in range(n)]


@grader("resilience.build-token-bucket")
def build_token_bucket(take) -> Feedback:
    """Runs ``take(r, key, capacity, rate_per_s, now_ms)`` (0 = admitted, else ms to wait) on a real Valkey,
    with a capacity of 5 and 2 tokens per second, at chosen instants."""
    from .. import services  # noqa: PLC0415

    if not callable(take):
        return Feedback(False, "Pass the function itself: check(..., take).")
    import redis as redis_py  # noqa: PLC0415

    with services.redis(name="grader-token-bucket") as srv:
        r = srv.client()
        try:
            first = _run(take, r, "tb:a", 1_000_000, n=8)
        except redis_py.ResponseError as exc:
            return Feedback(False, f"Valkey rejected the script: {exc}")
        admitted = sum(w == 0 for w in first)
        if not r.keys("*"):
            return Feedback(False, "Nothing was stored in Valkey: the bucket must live there (a hash with the "
                                   "tokens and the time of the last refill), or each replica has its own.")
        if admitted != _CAP:
            return Feedback(False, f"A new bucket of capacity {_CAP}, hit 8 times at one instant, admitted "
                                   f"{admitted}. It should start full and admit exactly {_CAP}.")
        wait = first[_CAP]
        if first[_CAP] < first[_CAP + 1] < first[_CAP + 2]:
            return Feedback(False, f"Each denied call made the next wait longer ({first[_CAP:]} ms): denied calls "
                                   "were charged a token and the bucket went below zero. Take a token only "
                                   "when the request is admitted.")
        if not 400 <= wait <= 600:
            return Feedback(False, f"The first denied call said to wait {wait} ms. With an empty bucket and "
                                   f"{_RATE:g} tokens per second, one token takes 500 ms: return "
                                   "ceil((cost - tokens) * 1000 / rate).")
        later = _run(take, r, "tb:a", 1_000_500, n=2)
        if later[0] != 0:
            return Feedback(False, "500 ms after the bucket emptied (one token's worth of refill) the next call "
                                   "was denied. Either tokens do not refill with elapsed time, or denied "
                                   "calls were charged a token (the bucket went below zero): take a token "
                                   "only when the request is admitted.")
        if later[1] == 0:
            return Feedback(False, "500 ms of refill (one token) admitted two calls: refill by the time since "
                                   "the *last* update, and store the new time with the new token count.")
        idle = _run(take, r, "tb:a", 1_600_000, n=_CAP + 1)
        if sum(w == 0 for w in idle) != _CAP:
            return Feedback(False, f"After ten idle minutes, {sum(w == 0 for w in idle)} calls in a row were "
                                   f"admitted; the bucket must never hold more than its capacity ({_CAP}): "
                                   "tokens = min(capacity, tokens + elapsed * rate).")
        if _run(take, r, "tb:b", 1_600_000)[0] != 0:
            return Feedback(False, "A different key (another user) was denied: each key needs its own bucket.")
        ttls = [r.pttl(k) for k in r.keys("*")]
        if any(t < 0 for t in ttls):
            return Feedback(False, "A bucket key has no expiry: every user who ever called would stay in memory "
                                   "forever. PEXPIRE it for about the time a full refill takes.")
        with ThreadPoolExecutor(8) as pool:  # three replicas at one instant: the server must decide one at a time
            waits = list(pool.map(lambda _: int(take(srv.client(), "tb:c", _CAP, _RATE, 2_000_000)), range(24)))
        if sum(w == 0 for w in waits) != _CAP:
            return Feedback(False, f"24 concurrent calls on a full bucket admitted {sum(w == 0 for w in waits)}, "
                                   f"not {_CAP}: read, refill and take inside one script so Valkey runs it "
                                   "atomically.")
    return Feedback(True, f"Right: your bucket starts full, refills at {_RATE:g}/s up to {_CAP}, says how long to "
                          "wait, expires idle keys and admits exactly its capacity under concurrency.")


# -- lab 5: idempotency --------------------------------------------------------------------------------
@grader("resilience.expected-duplicates")
def expected_duplicates(answer) -> Feedback:
    """1,000 payments, responses lost with p = 0.2, retried until answered: 1000 * p / (1 - p)."""
    return close_to(answer, 250, rel=0.06, unit=" duplicates", hints={
        200: "That counts one lost response per payment at most, but a retry can be lost as well. The number "
             "of attempts is geometric with mean 1 / (1 - p): the duplicates are 1000 * (1/(1-p) - 1).",
        1250: "That is the total number of attempts; the first attempt of each payment is not a duplicate.",
        0: "Without a key, every attempt after the first is a new INSERT: each is a duplicate charge.",
    })


@grader("resilience.safe-to-retry")
def safe_to_retry(answer) -> Feedback:
    got = {str(x).strip().lower() for x in (answer.replace(",", " ").split() if isinstance(answer, str) else answer)}
    if "c" in got:
        return Feedback(False, "POST /payments creates a new charge each time it runs: it needs an idempotency key.")
    if "e" in got:
        return Feedback(False, "An 'add 1' PATCH adds 1 again on every retry: it is not idempotent.")
    return same_set(got, {"a", "b", "d"}, "requests (reading, setting and deleting are idempotent)")


# -- lab 2: circuit breaker ------------------------------------------------------------------------------
@grader("resilience.threads-held")
def threads_held(answer) -> Feedback:
    """200 requests/s, each waiting a 2 s timeout: requests in flight (Little's law)."""
    return close_to(answer, 400, rel=0.05, unit=" requests", hints={
        100: "That divides the rate by the timeout; in flight = rate x time each request waits.",
        200: "That is one second's worth of requests; each waits two seconds, so two seconds' worth are waiting.",
    })


@grader("resilience.why-half-open")
def why_half_open(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "The trial is about the dependency, not the client's CPU.",
        "b": "Right: one probe costs one timeout if the dependency is still down, and no flood if it just came back.",
        "c": "The fallback is worse than the real answer; the breaker uses it only because the real one is unavailable.",
        "d": "One call measures nothing about a tail; it only tells whether the dependency answers again.",
    })


# -- lab 4: retries --------------------------------------------------------------------------------------
@grader("resilience.amplification")
def amplification(answer) -> Feedback:
    """Four layers, 3 tries each: calls reaching the bottom service."""
    return close_to(answer, 81, rel=0.001, unit=" calls", hints={
        12: "That adds the tries; they multiply: each try of a layer triggers all the tries of the layer below.",
        27: "That is three layers; with four it is 3^4.",
        64: "Three tries per layer (one try plus two retries): 3^4, not 4^3.",
    })


@grader("resilience.full-jitter-max")
def full_jitter_max(answer) -> Feedback:
    """Full jitter, base 0.1 s, cap 4 s: the longest wait before retry number 3."""
    return close_to(answer, 0.8, rel=0.02, unit=" s", hints={
        0.4: "That is the average wait; the longest is the whole range, min(cap, base x 2^3).",
        1.6: "Retry number 3 counting from 0 waits up to base x 2^3 = 0.8 s; 1.6 s is the next one.",
        4.0: "The cap only matters once base x 2^k exceeds it; for k = 3 that is 0.8 s.",
    })


# -- lab 3: backpressure ---------------------------------------------------------------------------------
@grader("resilience.queue-size")
def queue_size(answer) -> Feedback:
    """8 workers x 40 ms: 200 req/s; 100 ms of waiting = 20 requests ahead."""
    return close_to(answer, 20, rel=0.1, unit=" requests", hints={
        2.5: "That is the wait in units of one service time for one worker; the 8 workers drain the queue "
             "8 times faster: 200 requests per second.",
        3: "That counts one worker's service times; all 8 workers take from the queue, at 200 per second in total.",
        8: "That is the number of workers; the queue may hold as many requests as the workers finish in 100 ms.",
    })
