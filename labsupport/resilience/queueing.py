"""The M/M/c/K queue (a model: Poisson arrivals, exponential service, c servers, room for K in total).

    m = mmck(rate_per_s=120, service_s=0.05, c=4, k=12)
    m["p_reject"], m["goodput_per_s"], m["mean_response_s"]
"""

from __future__ import annotations

import math


def mmck(rate_per_s: float, service_s: float, c: int, k: int) -> dict:
    """Steady-state blocking probability, throughput and mean time in the system (Little's law)."""
    a = rate_per_s * service_s  # offered load in erlangs
    terms = [a ** n / math.factorial(n) if n <= c else a ** n / (math.factorial(c) * c ** (n - c)) for n in range(k + 1)]
    total = sum(terms)
    p = [t / total for t in terms]
    throughput = rate_per_s * (1 - p[k])
    in_system = sum(n * pn for n, pn in enumerate(p))
    return {"p_reject": p[k], "goodput_per_s": throughput, "mean_response_s": in_system / throughput if throughput else math.inf}
