"""Seeded simpy models for effects one laptop cannot show (many servers, many regions, long TTLs).

Every model takes named parameters with units and a ``seed``; the same seed gives the same result.
One module per topic: ``cache``, ``cdn``, ``lb``, ``dns_ttl``.
"""
