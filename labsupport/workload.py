"""Seeded workloads: which key each request asks for, and how many tokens each answer has.

    p = zipf_probabilities(n_keys=5_000, skew=1.0)       # P(key k) ~ 1 / (k + 1)**skew, sums to 1
    keys = zipf_requests(n_requests=20_000, n_keys=5_000, skew=1.0, seed=42)   # key ids, 0 the most popular
    keys = zipf_requests(600, 2_500, skew=1.0, rng=rng)  # ... drawn from a generator you already hold
    phases = drifting_requests(n_phases=8, requests_per_phase=1_500, window_keys=200, shift_keys=100, seed=42)
    keys = uniform_requests(n_requests=3_000, n_keys=30, seed=42)              # every key equally likely
    tokens = bimodal_tokens(n_requests=400, short=10, long=1000, long_fraction=0.1, seed=42)   # "10 or 1000"
    tokens = lognormal_tokens(n_requests=20_000, mean=100, sigma=1.5, seed=42)                  # heavy tail

Keys are integer ids in ``[0, n_keys)``; lengths are whole tokens. The same seed gives the same
workload, and each kind of draw uses its own random stream (``[seed, 1]`` for lengths, ``[seed, 2]``
for uniform keys), so a simulation's lengths never correlate with its keys.
"""

from __future__ import annotations

import numpy as np


# -- popularity: which key a request asks for ------------------------------------------------------
def zipf_probabilities(n_keys: int, skew: float) -> np.ndarray:
    """P(key k) proportional to 1 / (k + 1) ** skew; skew 0 is uniform, bigger is more skewed."""
    weights = 1.0 / np.arange(1, n_keys + 1, dtype=float) ** skew
    return weights / weights.sum()


def zipf_requests(n_requests: int, n_keys: int, skew: float = 1.0, seed: int = 42,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """Key ids drawn from a Zipf law (key 0 most popular); popularity never changes.

    ``rng`` (optional) draws from a generator the caller holds instead of a fresh one seeded ``seed``.
    """
    rng = np.random.default_rng(seed) if rng is None else rng
    return rng.choice(n_keys, size=n_requests, p=zipf_probabilities(n_keys, skew))


def drifting_requests(n_phases: int, requests_per_phase: int, window_keys: int, shift_keys: int,
                      seed: int = 42) -> list[np.ndarray]:
    """Popularity that moves: phase p draws uniformly from keys [p*shift_keys, p*shift_keys + window_keys).

    Yesterday's hot keys go cold, which is what LRU handles and LFU does not.
    """
    rng = np.random.default_rng(seed)
    return [p * shift_keys + rng.integers(0, window_keys, size=requests_per_phase) for p in range(n_phases)]


def uniform_requests(n_requests: int, n_keys: int = 1000, seed: int = 42) -> np.ndarray:
    """A key per request (a user or a prompt prefix), uniform over ``n_keys`` (random stream ``[seed, 2]``)."""
    return np.random.default_rng([seed, 2]).integers(0, n_keys, n_requests)


# -- lengths: how many tokens each answer has --------------------------------------------------------
def bimodal_tokens(n_requests: int, short: int = 10, long: int = 1000, long_fraction: float = 0.1,
                   seed: int = 42) -> np.ndarray:
    """Mostly ``short`` answers, a ``long_fraction`` of ``long`` ones ("some generate 10 tokens, others 1000")."""
    rng = np.random.default_rng([seed, 1])
    return np.where(rng.random(n_requests) < long_fraction, long, short).astype(int)


def lognormal_tokens(n_requests: int, mean: float = 100, sigma: float = 1.0, seed: int = 42) -> np.ndarray:
    """Heavy-tailed lengths with a fixed ``mean`` (tokens); ``sigma`` is the spread (0: every answer equal)."""
    rng = np.random.default_rng([seed, 1])
    mu = np.log(mean) - sigma**2 / 2
    return np.maximum(1, np.round(rng.lognormal(mu, sigma, n_requests))).astype(int)
