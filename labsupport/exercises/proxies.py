"""Graders for chapter 4, proxies and API gateways (labs/04-proxies)."""

from __future__ import annotations

from ..check import Feedback, close_to, grader, one_of, same_set


@grader("proxies.rate-limit-accepted")
def rate_limit_accepted(answer) -> Feedback:
    """5 r/s, no burst; 20 r/s offered for 4 s -> about 20 accepted."""
    return close_to(answer, 20, rel=0.1, abs_tol=1, unit=" requests", hints={
        80: "80 is everything the client sent. The limiter refuses whatever arrives faster than its rate.",
        60: "60 is how many get 429. The question asks how many are let through.",
        5: "5 is the rate per second; the client keeps sending for 4 seconds.",
    })


@grader("proxies.tls-hop")
def tls_hop(answer) -> Feedback:
    return one_of(answer, "client-proxy", {
        "client-proxy": "Right: the proxy holds the certificate and decrypts; the backend gets plain HTTP "
                        "and learns about HTTPS only from X-Forwarded-Proto.",
        "proxy-backend": "It is the other way round: the client's connection to the proxy is the encrypted "
                         "one. The echo backend reported a plain socket (hop_tls False).",
        "both": "That is re-encryption (or mTLS in a service mesh), a different setup. With termination, "
                "the echo backend reported a plain socket.",
        "neither": "The client negotiated TLS with nginx (it printed the TLS version), so the first hop is "
                   "encrypted.",
    })


@grader("proxies.cache-backend-calls")
def cache_backend_calls(answer) -> Feedback:
    """50 users x the same 10 items, one cache lifetime -> 10 misses."""
    return close_to(answer, 10, rel=0, abs_tol=0.5, unit=" requests", hints={
        500: "500 is every request the users made: that would be no cache at all.",
        50: "The cache key is the URL, not the user: the second user asking for item 3 gets a HIT.",
        1: "Each distinct URL is its own cache entry, so each of the 10 items misses once.",
        490: "490 is the number of HITs. The backend sees the misses.",
    })


@grader("proxies.gzip-saving-ms")
def gzip_saving_ms(answer) -> Feedback:
    """2 MB at 10 Mbit/s = 1600 ms; 8x smaller = 200 ms; saving 1400 ms."""
    return close_to(answer, 1400, rel=0.05, unit=" ms", hints={
        1600: "1600 ms is the uncompressed transfer time. Subtract the compressed one.",
        200: "200 ms is the compressed transfer time. The question asks how much is saved.",
        1.4: "That looks like seconds; the answer is asked in milliseconds.",
        175: "Bytes are 8 bits: 2,000,000 bytes are 16 Mbit, not 2 Mbit.",
        11200: "Divide by the link speed in bits per second: 16 Mbit / 10 Mbit/s = 1.6 s uncompressed.",
    })


@grader("proxies.shared-limit")
def shared_limit(answer) -> Feedback:
    """3 nginx gateways, each 2 r/s per key in its own memory, spread evenly -> 6 r/s."""
    return close_to(answer, 6, rel=0, abs_tol=0.5, unit=" r/s", hints={
        2: "2 r/s would hold if the replicas shared their counters (as the Python gateway does through "
           "Redis). Each nginx counts only what it sees.",
        0.67: "Each replica sees a third of the traffic, but its own limit is still 2 r/s for that key.",
    })


_GATEWAY_JOBS = {"auth", "rate_limit", "routing", "metering"}
_ALL_JOBS = _GATEWAY_JOBS | {"feature_scaling", "inference", "tokenization"}


@grader("proxies.gateway-jobs")
def gateway_jobs(answer) -> Feedback:
    got = {str(x).strip().lower() for x in answer}
    unknown = got - _ALL_JOBS
    if unknown:
        return Feedback(False, f"Unknown job(s) {sorted(unknown)}; choose from {sorted(_ALL_JOBS)}.")
    fb = same_set(got, _GATEWAY_JOBS, name="jobs")
    if fb.ok:
        return Feedback(True, "Right: auth, limits, routing and metering are the same for every model, so they "
                              "live once in the gateway; the model servers keep the model-specific work.")
    model_side = got & (_ALL_JOBS - _GATEWAY_JOBS)
    if model_side:
        return Feedback(False, f"{', '.join(sorted(model_side))} depend(s) on the model and its version, so "
                               "they belong with the model server, not in a shared gateway. " + fb.message)
    return Feedback(False, "Some gateway jobs are missing: which of these did both gateways in the lab do "
                           "for every route? " + fb.message)


@grader("proxies.billable-calls")
def billable_calls(answer) -> Feedback:
    """Ledger {"200": 7, "429": 44, "502": 2}: bill the 7 successful calls."""
    return close_to(answer, 7, rel=0, abs_tol=0.5, unit=" calls", hints={
        53: "53 counts every request, including those the gateway refused (429) and the backend failed "
            "(502). Customers pay for answers, not for being turned away.",
        51: "The 429s were refused by the gateway before they reached a model: they cost you almost "
            "nothing, so they are not billed.",
        9: "The 502s are your failures (the backend broke), not the customer's usage.",
        44: "44 is the number of refused (429) calls.",
    })


# -- build-it: a per-key token bucket in Redis that holds under concurrency ----------------------------
def _burst_of(admit, r, key: str, rate: float, burst: int, calls: int) -> int:
    return sum(bool(admit(r, key, rate, burst)) for _ in range(calls))


@grader("proxies.build-token-bucket")
def build_token_bucket(admit) -> Feedback:
    """Runs the learner's ``admit(r, api_key, rate_per_s, burst) -> bool`` against a real Redis: a full
    bucket for a new key, refill at the rate, one bucket per key, state kept in Redis, and no lost updates
    when 16 gateway threads ask for the same key at once."""
    import threading  # noqa: PLC0415
    import time  # noqa: PLC0415

    from ..services import redis as start_redis  # noqa: PLC0415

    with start_redis() as server:
        r = server.client()
        first = _burst_of(admit, r, "key-seq", 2, 5, 5)
        if first < 5:
            return Feedback(False, f"A new key with burst 5 got only {first} of 5 back-to-back requests "
                                   "through: a bucket starts full, with burst tokens.")
        if admit(r, "key-seq", 2, 5):
            return Feedback(False, "The 6th back-to-back request was admitted with burst 5: each admitted "
                                   "request must take a token, and an empty bucket refuses (429).")
        if not admit(r, "key-other", 2, 5):
            return Feedback(False, "A fresh key was refused right after key-seq emptied its bucket: all keys "
                                   "share one bucket. Put the API key in the Redis key (e.g. bucket:{key}), "
                                   "one bucket per customer.")
        if not any("key-seq" in k for k in r.keys("*")):
            return Feedback(False, "Nothing in Redis mentions key-seq: the bucket lives somewhere else "
                                   "(a Python dict?). Each gateway replica would then have its own bucket "
                                   "and let the customer through once per replica. Keep it in Redis.")
        time.sleep(1.0)
        refilled = _burst_of(admit, r, "key-seq", 2, 5, 5)
        if refilled == 0:
            return Feedback(False, "One second after the bucket ran dry, at 2 tokens/s, no request got "
                                   "through: tokens never come back. Add rate x (time since the last update) "
                                   "to the bucket, capped at burst, before taking one.")
        if refilled > 3:
            return Feedback(False, f"One second at 2 tokens/s should refill about 2 tokens, but {refilled} "
                                   "requests got through: the refill is too fast or not capped.")
        admitted, barrier = [], threading.Barrier(16)

        def gateway_thread():
            barrier.wait()
            admitted.append(_burst_of(admit, r, "key-race", 1, 10, 10))

        threads = [threading.Thread(target=gateway_thread) for _ in range(16)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        allowed = 10 + 1 * (time.monotonic() - t0) + 1  # burst, + rate x elapsed, + one at the edge
        got = sum(admitted)
        if got > allowed + 1:
            return Feedback(False, f"16 gateway threads sent 160 requests for one key (burst 10, 1 token/s) "
                                   f"and {got} got through, where at most {allowed:.0f} should: lost updates. "
                                   "Two threads read the same token count before either wrote it back, and "
                                   "both spent the same token. Make read-refill-take one atomic step in Redis "
                                   "(a Lua script with r.eval or r.register_script, or WATCH/MULTI and retry).")
    return Feedback(True, f"Right: a full bucket for new keys, refill at the rate, one bucket per key in Redis, "
                          f"and under 16 concurrent threads {got} of 160 requests got through (limit about "
                          f"{allowed:.0f}). Every gateway replica sharing this Redis enforces one limit.")
