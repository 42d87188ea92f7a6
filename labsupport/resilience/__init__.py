"""Teaching implementations of the resilience patterns (chapter 11), each small enough to read.

    from labsupport.resilience import limiters, breaker, retry, idempotency, clients
    limiters.TokenBucket(r, capacity=20, rate_per_s=20).check("alice")   # Decision(allowed, retry_after_s)
    breaker.CircuitBreaker(fail_max=5, reset_timeout_s=1.0)              # closed -> open -> half-open
    retry.backoff_delays("full", base_s=0.1, cap_s=2.0, attempts=6, rng)  # seconds to wait before each retry
    idempotency.pay(conn, key, user, amount_cents)                       # a charge stored once per key
    clients.burst(urls, "/api/fixed", n=40, user="u1")                   # HTTP drivers for the labs

Servers that use them live in ``labsupport/apps/resilience_*.py``; drivers in ``clients``.
"""
