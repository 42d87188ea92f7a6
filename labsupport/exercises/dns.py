"""Graders for chapter 3 (DNS): load balancing, geographic routing, failover and the TTL problem."""

from __future__ import annotations

from ..check import Feedback, close_to, grader, one_of, same_set


@grader("dns.rr-heavy-share")
def rr_heavy_share(answer) -> Feedback:
    """Clients A, B, C, A, B (in resolution order); client 1 sends 100 requests, the other four 10 each."""
    return close_to(answer, 110 / 140, rel=0.03, hints={
        1 / 3: "That is what per-request rotation would give. Here each client caches its answer, so every "
               "request of a client goes to the one server it was handed.",
        2 / 5: "That is server A's share of the clients (2 of 5), not of the requests. Weigh each client by "
               "how many requests it sends.",
        100 / 140: "Close: server A also got client 4, which sends 10 more requests.",
        110 / 100: "A fraction of all requests cannot exceed 1: divide by the total, 100 + 4 x 10.",
    })


@grader("dns.rebalance-time")
def rebalance_time(answer) -> Feedback:
    """TTL 3600 s; a server is added at noon: minutes until every well-behaved cache has the new set."""
    return close_to(answer, 60, rel=0.05, unit=" min", hints={
        30: "30 minutes is when about half of the caches have refreshed. The question asks for every client: "
            "a cache filled a moment before noon keeps the old answer for the whole TTL.",
        0: "The authoritative server changes at once, but clients keep their cached answer until its TTL "
           "runs out.",
        3600: "Right number, wrong unit: the answer is in minutes.",
    })


@grader("dns.far-resolver")
def far_resolver(answer) -> Feedback:
    """A Tokyo laptop asks a public resolver's London site, which does not send EDNS Client Subnet."""
    return one_of(answer, "london", {
        "tokyo": "The authoritative server never sees the laptop. Without ECS it only sees the resolver's "
                 "address, which is in London.",
        "london": "Right: without ECS the authoritative server can only route by the resolver's address, "
                  "so the Tokyo user is sent to London and pays the long round trip on every request.",
        "both": "Geo routing answers with one region's servers; which region depends on the address it sees, "
                "and here that is the London resolver's.",
    })


@grader("dns.ecs-sees")
def ecs_sees(answer) -> Feedback:
    """What the authoritative server learns when a resolver forwards a question with ECS."""
    if isinstance(answer, str):
        answer = [answer]
    fb = same_set(answer, {"resolver-ip", "client-subnet"}, name="things it sees")
    if not fb.ok and "client-ip" in {str(x).strip().lower() for x in answer}:
        return Feedback(False, "ECS deliberately sends a truncated subnet (often a /24), not the client's "
                               "full address: enough to locate the user, not to identify them.")
    if not fb.ok and "client-city" in {str(x).strip().lower() for x in answer}:
        return Feedback(False, "DNS carries no location: the server maps the subnet to a region with its "
                               "own table (a GeoIP database). Which two items travel in the packet?")
    return fb


@grader("dns.worst-case-stale")
def worst_case_stale(answer) -> Feedback:
    """Checks every 10 s, 3 failures to withdraw, TTL 300 s: how long a client may hit a dead server."""
    return close_to(answer, 330, rel=0.03, unit=" s", hints={
        300: "You counted the TTL but not the detection: the record is still handed out until the third "
             "failed check, up to 30 s after the crash.",
        310: "Three failures in a row take up to three checks, 10 s apart, not one.",
        150: "150 s is about the average client. The last client is the one that refreshed its cache just "
             "before the record was withdrawn: it keeps the dead address for a full TTL.",
        30: "30 s is only the detection time. After that, caches still hold the dead address for up to "
            "a TTL.",
    })


@grader("dns.queries-per-s")
def queries_per_s(answer) -> Feedback:
    """100,000 busy resolvers re-ask as soon as a 60 s TTL expires: queries per second."""
    return close_to(answer, 100_000 / 60, rel=0.05, unit=" queries/s", hints={
        100_000: "That is the number per TTL period (per minute); divide by the TTL in seconds.",
        6_000_000: "Each resolver asks once per TTL, not once per second times 60.",
    })


@grader("dns.choose-ttl")
def choose_ttl(answer) -> Feedback:
    """Health check every 5 s, 2 failures to withdraw; every client off a dead server within 60 s: max TTL."""
    return close_to(answer, 50, rel=0.04, unit=" s", hints={
        60: "That leaves no time for detection: two failed checks 5 s apart take up to 10 s before the "
            "record is withdrawn, and only then does the TTL clock that matters start.",
        55: "Detection takes up to two checks, 10 s, not one.",
        30: "That works, but it is not the largest TTL that meets the target.",
    })


# -- build-it: a caching forwarder that honours TTLs, graded against the real dnslib authority --------
def _asked(d, label: str) -> int:
    """Questions for ``label`` the authoritative server itself counted (not what the cache claims)."""
    return d.stats()["by_name"].get(label, 0)


@grader("dns.build-ttl-cache")
def build_ttl_cache(cls) -> Feedback:
    """Runs the learner's ``TTLCache(ask)`` against a real authoritative server: answers from cache while
    the TTL lasts (one upstream question per TTL), one cache entry per name, the new record after expiry,
    and the TTL the answer carries rather than a constant."""
    import time  # noqa: PLC0415

    from ..services import dns as start_dns  # noqa: PLC0415

    with start_dns({"api": ["127.0.0.2"], "db": ["127.0.0.9"]}, ttl_s=1) as d:
        cache = cls(d.query)
        t0 = time.monotonic()
        first = cache.lookup("api")
        if list(first or []) != ["127.0.0.2"]:
            return Feedback(False, f"lookup('api') returned {first!r}; it should return the answer's list of "
                                   "addresses (ans.ips), here ['127.0.0.2'].")
        for _ in range(9):
            cache.lookup("api")
        if (n := _asked(d, "api")) > 1:
            return Feedback(False, f"Ten lookups within the 1 s TTL sent {n} questions to the authoritative "
                                   "server: the cache is not answering from memory. Keep each answer with its "
                                   "expiry time (now + ans.ttl_s) and reuse it until then.")
        db = cache.lookup("db")
        if list(db or []) != ["127.0.0.9"]:
            return Feedback(False, f"lookup('db') returned {db!r}, not db's own address: the cache must be "
                                   "keyed by name, one entry (answer, expiry) per name.")
        d.set_records("api", ["127.0.0.3"], ttl_s=3)  # the operator changes the record, and its TTL
        time.sleep(max(0.0, 0.5 - (time.monotonic() - t0)))
        mid = cache.lookup("api")
        if list(mid) != ["127.0.0.2"] or _asked(d, "api") > 1:
            return Feedback(False, "Half a TTL after the first answer the cache asked again: it expired the "
                                   "entry before its TTL (1 s) ran out. Use the TTL the answer carries "
                                   "(ans.ttl_s), not a shorter one of your own.")
        time.sleep(max(0.0, 1.3 - (time.monotonic() - t0)))
        after = cache.lookup("api")
        if list(after) != ["127.0.0.3"]:
            return Feedback(False, "The 1 s TTL had run out and the record had changed, but the cache still "
                                   f"answered {after!r}: it keeps answers past their TTL. That is how clients "
                                   "keep reaching a dead or moved server. Compare the expiry time with now on "
                                   "every lookup.")
        time.sleep(1.2)  # the new answer's TTL is 3 s: still fresh
        cache.lookup("api")
        if (n := _asked(d, "api")) != 2:
            return Feedback(False, f"The refreshed answer came with a 3 s TTL, yet after 1.2 s the server had "
                                   f"been asked {n} times in all (2 is right): the cache used a fixed TTL "
                                   "instead of the one each answer carries (ans.ttl_s).")
    return Feedback(True, "Right: one question per TTL per name, the old answer until it expired, the new "
                          "one after, with each answer's own TTL. That is every cache between a client and "
                          "the authoritative server, and why a change takes up to one TTL to reach clients.")
