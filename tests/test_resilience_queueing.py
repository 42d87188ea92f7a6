"""labsupport.resilience.queueing: the M/M/c/K formulas against known cases."""

import math

from labsupport.resilience.queueing import mmck


def test_mm11_blocks_with_probability_a_over_one_plus_a():
    """M/M/1/1 (Erlang B with one server): P_block = a / (1 + a)."""
    m = mmck(rate_per_s=10, service_s=0.1, c=1, k=1)
    assert math.isclose(m["p_reject"], 0.5)
    assert math.isclose(m["mean_response_s"], 0.1)


def test_throughput_never_exceeds_capacity_and_approaches_it_under_overload():
    m = mmck(rate_per_s=1000, service_s=0.05, c=4, k=12)
    assert 79 < m["goodput_per_s"] <= 80
    assert mmck(rate_per_s=20, service_s=0.05, c=4, k=12)["p_reject"] < 1e-4
