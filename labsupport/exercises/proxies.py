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
