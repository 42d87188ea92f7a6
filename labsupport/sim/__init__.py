"""Seeded models, labelled as simulations, for what one laptop cannot show (many servers, regions, long TTLs).

Every module has one shape: a frozen ``XConfig`` dataclass (named parameters with units, and a
``seed``), ``simulate(cfg) -> XResult`` (a dataclass), and ``dataclasses.replace(cfg, ...)`` for a
variant; the same config gives the same result.

    lb.simulate(lb.LBConfig(tokens, policy="p2c", n_servers=50, load=0.9))    # load balancing, chapter 5
    dns_ttl.simulate(dns_ttl.TTLConfig(ttl_s=300, event="fail"))              # DNS failover, chapter 3
    cache.simulate(cache.CacheConfig(reqs, capacity=500, policy="lfu"))      # eviction, chapter 6
    staleness.simulate(staleness.StalenessConfig(ttl_s=0.5, update_rate_per_s=1, read_rate_per_s=10))
    prompts.simulate(prompts.PromptCacheConfig(skew=1.0, cache_entries=100))  # a chatbot's prompt cache
    cdn.simulate(cdn.CDNConfig(seed=42))                                      # a CDN, chapter 6
"""
