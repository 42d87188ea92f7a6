"""labsupport.resilience.herd: the seeded retry-storm simulation (a model; no servers)."""

from dataclasses import FrozenInstanceError, replace

import pytest

from labsupport.resilience.herd import HerdConfig, HerdResult, simulate

OUTAGE = HerdConfig(n_clients=500, down_s=1.0, capacity_per_s=250, seed=3)


def test_same_seed_same_result_and_the_config_is_frozen():
    a, b = simulate(OUTAGE), simulate(OUTAGE)
    assert isinstance(a, HerdResult) and a.arrivals_per_100ms == b.arrivals_per_100ms and a.calls == b.calls
    with pytest.raises(FrozenInstanceError):
        OUTAGE.seed = 4


def test_every_client_is_accounted_for():
    for policy in ("none", "exponential", "full", "decorrelated"):
        res = simulate(replace(OUTAGE, policy=policy))
        assert res.served + res.gave_up == OUTAGE.n_clients, policy
        assert res.calls == sum(res.arrivals_per_100ms) >= OUTAGE.n_clients


def test_jitter_beats_lockstep_backoff_and_a_budget_caps_the_calls():
    lockstep, jitter = simulate(replace(OUTAGE, policy="exponential")), simulate(replace(OUTAGE, policy="full"))
    assert jitter.served > 2 * lockstep.served
    assert lockstep.peak_after_recovery > 3 * jitter.peak_after_recovery
    budgeted = simulate(replace(OUTAGE, policy="full", budget_ratio=0.2))
    assert budgeted.calls <= 1.2 * OUTAGE.n_clients + 10 < jitter.calls
