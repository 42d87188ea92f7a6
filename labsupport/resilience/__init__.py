"""Teaching implementations of the resilience patterns (chapter 11), each small enough to read.

    from labsupport.resilience import limiters, breaker, retry, idempotency, clients, herd, chain
    limiters.TokenBucket(r, capacity=20, rate_per_s=20).check("alice")   # Decision(allowed, retry_after_s)
    breaker.CircuitBreaker(fail_max=5, reset_timeout_s=1.0)              # closed -> open -> half-open
    retry.backoff("full", k, rng, base_s=0.1, cap_s=2.0)                 # seconds to wait before retry k
    idempotency.pay(conn, key, user, amount_cents)                       # a charge stored once per key
    retry.WindowRetryBudget(ratio=0.1, floor=2, window_s=10)              # retries <= 10% of recent requests
    herd.simulate(herd.HerdConfig(policy="full", seed=1))                # a SIMULATED retry storm -> HerdResult
    chain.Chain.start(("gateway", "model", "features"), bottom="store")  # real services that retry in a line
    clients.burst(urls, "/api/fixed", n=40, user="u1")                   # HTTP drivers for the labs

Servers that use them live in ``labsupport/apps/resilience_*.py``; drivers in ``clients``.
"""
