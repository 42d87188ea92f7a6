"""labsupport.sim.cdn: the seeded CDN simulation and the download-time model."""

from dataclasses import replace

import numpy as np
import pytest

from labsupport.sim.cdn import CDNConfig, download_time_s, simulate, weights_download

FAST = CDNConfig(duration_s=60, seed=42)  # half the lab's run keeps these tests to a few seconds


def test_same_seed_gives_the_same_result():
    """Two runs with seed 42 give identical latencies; seed 7 gives different ones."""
    a, b, c = simulate(FAST), simulate(FAST), simulate(replace(FAST, seed=7))
    for region in a.latency_ms:
        assert np.array_equal(a.latency_ms[region], b.latency_ms[region])
    assert not np.array_equal(a.latency_ms["ap-tokyo"], c.latency_ms["ap-tokyo"])


def test_with_and_without_edge_see_the_same_traffic():
    """Common random numbers: the two runs get the same number of requests per region."""
    assert simulate(FAST).requests == simulate(replace(FAST, use_edge=False)).requests


def test_without_edge_everything_reaches_the_origin():
    """No edge: hit rate 0 and one origin request per user request; every request finishes."""
    res = simulate(replace(FAST, use_edge=False))
    assert all(h == 0 for h in res.hit_rate().values())
    assert res.origin_requests == sum(res.requests.values())
    assert not any(np.isnan(v).any() for v in res.latency_ms.values())


def test_edge_cuts_far_latency_and_near_latency_less():
    """p50 ratio (origin only / with edge) over the lab's 120 s run: large for Tokyo, small for us-east."""
    cfg = CDNConfig(seed=42)  # the shorter run's edges are still too cold for the median to be a hit
    p_no, p_edge = simulate(replace(cfg, use_edge=False)).percentiles(), simulate(cfg).percentiles()
    tokyo = p_no["ap-tokyo"]["p50"] / p_edge["ap-tokyo"]["p50"]
    near = p_no["us-east"]["p50"] / p_edge["us-east"]["p50"]
    assert tokyo > 3 and tokyo > 2 * near


def test_bigger_edge_hits_more():
    """Edge of 50 objects vs 5,000 objects: hit rate in every region."""
    small = simulate(replace(FAST, edge_capacity_objects=50)).hit_rate()
    big = simulate(replace(FAST, edge_capacity_objects=5000)).hit_rate()
    assert all(big[r] > small[r] for r in small)


def test_download_time_is_window_limited_far_and_link_limited_near():
    """4,000 MB with a 4 MB window: 160 ms away ~ 160 s; 10 ms away the 1 Gbit/s link limits (~32 s)."""
    assert download_time_s(4000, 160, handshake_rtts=0) == pytest.approx(4000 / 25 + 0.16, rel=1e-6)
    assert download_time_s(4000, 10, handshake_rtts=0) == pytest.approx(4000 / 125 + 0.01, rel=1e-6)


def test_weights_download_warm_edge_never_slower():
    """Per region: warm edge <= origin, and a cold edge is about as slow as the origin."""
    for region, d in weights_download(4000).items():
        assert d["edge_warm"] <= d["origin"] + 1e-9, region
        assert d["edge_cold"] >= d["origin"], region


def test_warm_edges_hit_more_and_alike_across_regions():
    """Cold start (empty edges, 120 s) vs edges pre-filled by an hour of the same traffic: warm hit rates
    are higher, and no longer depend on a region's traffic volume (an LRU's steady state does not)."""
    cfg = CDNConfig(seed=42)
    cold, warm = simulate(cfg).hit_rate(), simulate(replace(cfg, warmup_s=3600)).hit_rate()
    for region in cold:
        assert warm[region] > cold[region] + 0.05, (region, cold, warm)
    assert max(warm.values()) - min(warm.values()) < 0.5 * (max(cold.values()) - min(cold.values()))


def test_config_is_frozen_and_same_numbers_as_before_the_config_refactor():
    """CDNConfig is a value (frozen); a short seeded run gives the requests and origin requests recorded
    with the old ``simulate(cfg, use_edge=...)`` API."""
    import dataclasses

    cfg = CDNConfig(duration_s=10, n_objects=2000, edge_capacity_objects=300, seed=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 6
    edge, origin = simulate(cfg), simulate(replace(cfg, use_edge=False))
    assert edge.requests == {"us-east": 419, "eu-west": 315, "sa-east": 92, "ap-tokyo": 209}
    assert (edge.origin_requests, origin.origin_requests) == (559, 1035)
