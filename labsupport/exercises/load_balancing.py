"""Graders for chapter 5, load balancing (labs in labs/05-load-balancing/)."""

from __future__ import annotations

import time

from ..check import Feedback, close_to, grader, one_of


# -- lab 1: policies on real servers -----------------------------------------------------------
@grader("load-balancing.dead-backend-fraction")
def dead_backend_fraction(answer):
    return close_to(answer, 1 / 3, rel=0.06, hints={
        0: "Without retries nothing saves a request that is sent to the dead server. How often does round "
           "robin pick it?",
        0.5: "Round robin cycles over all three servers, the dead one included: one turn in three.",
        2 / 3: "That is the share that *succeeds*: two healthy servers out of three.",
        1: "Only the requests sent to the dead server fail; the other two servers answer.",
    })


@grader("load-balancing.weights")
def weights(answer):
    w = [float(x) for x in answer]
    if len(w) != 4:
        return Feedback(False, f"Give one weight per GPU: 4 numbers, not {len(w)}.")
    if min(w) <= 0:
        return Feedback(False, "Weights must be positive: a weight of 0 would send the server nothing.")
    ratio = [x / w[2] for x in w]
    if all(abs(r - e) < 0.05 for r, e in zip(ratio, [2, 2, 1, 1])):
        return Feedback(True, "Right: capacity 2:2:1:1, so each 80 GB GPU gets twice a 40 GB GPU's share.")
    if len(set(w)) == 1:
        return Feedback(False, "Equal weights are plain round robin: the 40 GB GPUs would get as much as the "
                               "80 GB ones.")
    if all(abs(r - e) < 0.05 for r, e in zip(ratio, [0.5, 0.5, 1, 1])):
        return Feedback(False, "Upside down: the bigger GPU gets the bigger weight.")
    return Feedback(False, "Weights are ratios of capacity, and capacity follows memory here (80 vs 40 GB).")


@grader("load-balancing.hang-retry")
def hang_retry(answer):
    return one_of(answer, "b", {
        "a": "gpu-0 was healthy throughout (it served every later request), so nginx had somewhere to retry.",
        "b": "Right: the request had reached the frozen server, and nginx does not replay a non-idempotent "
             "POST that may have been acted on; it answers 504 instead.",
        "c": "nginx never retries on the server that just failed; the next try goes to the next server.",
    })


# -- lab 2: simulation -------------------------------------------------------------------------
@grader("load-balancing.equal-lengths")
def equal_lengths(answer):
    return one_of(answer, "round_robin", {
        "round_robin": "Right, in this model: with equal work per request and one balancer over Poisson "
                       "arrivals, every n-th request per server is an even, regular stream, so nothing piles up. "
                       "That is a property of the model (one balancer, processor sharing, p99), not a rule.",
        "least_conn": "In this model least connections is a close second: it reacts to random arrival bursts "
                      "where round robin's regular stream does not; see the sigma = 0 point of the spread plot.",
        "p2c": "Two random choices help a lot against random assignment, but in this model the sigma = 0 point "
               "of the spread plot has a clear winner.",
        "random": "Random is the worst of the four with equal lengths in this model: chance alone stacks "
                  "requests on some servers while others idle.",
    })


@grader("load-balancing.sim-p2c-p99")
def sim_p2c_p99(answer):
    from ..sim import lb  # noqa: PLC0415 - import the simulator only when this exercise is graded
    from ..workload import lognormal_tokens  # noqa: PLC0415

    tokens = lognormal_tokens(3000, mean=100, sigma=1.5, seed=7)
    cfg = lb.LBConfig(tokens, n_servers=20, lanes=1, token_ms=1.0, load=0.8, seed=7)  # the lab's exercise
    p99 = {p: r.p99_ms for p, r in lb.compare(cfg, ["p2c", "random", "least_conn"]).items()}
    expected, random_p99, lc_p99 = p99["p2c"], p99["random"], p99["least_conn"]
    return close_to(answer, expected, rel=0.02, unit=" ms", hints={
        random_p99: "That is the p99 of 'random'; the exercise asks for 'p2c'.",
        lc_p99: "That is the p99 of 'least_conn'; the exercise asks for 'p2c'.",
    })


# -- lab 3: consistent hashing -----------------------------------------------------------------
@grader("load-balancing.ring-moved")
def ring_moved(answer):
    return close_to(answer, 0.1, rel=0.2, hints={
        0.9: "That is what hash % n moves. On a ring, only the keys the newcomer takes over move.",
        0: "The new server has to get its share of keys from somewhere: some keys must move.",
    })


@grader("load-balancing.modn-moved")
def modn_moved(answer):
    return close_to(answer, 0.8, rel=0.05, hints={
        0.2: "0.2 is what a consistent-hash ring moves (1/5). With hash % n, a key stays only when "
             "h % 4 == h % 5.",
        0.25: "A key stays only when h % 4 == h % 5: count how many of 20 consecutive hash values do.",
        1: "Not every key moves: those with h % 20 in 0..3 give the same remainder modulo 4 and 5.",
    })


@grader("load-balancing.prefix-rr-hit-rate")
def prefix_rr_hit_rate(answer):
    return close_to(answer, 1 / 3, rel=0.1, hints={
        1: "That is what hashing on the prompt approaches. Round robin sends every prompt to every replica.",
        0: "Each replica still holds 10 prompts, so some requests do find theirs.",
        0.1: "The cache holds 10 of the 30 prompts, not 1 of 10.",
    })


# -- lab 4: L4 vs L7 ---------------------------------------------------------------------------
@grader("load-balancing.l4-misroute")
def l4_misroute(answer):
    return close_to(answer, 0.75, rel=0.05, hints={
        0.25: "0.25 is the share that lands on the embedding server. The question asks how many miss it.",
        0.5: "There are 4 servers and only 1 has the embedding model: count again.",
        0: "An L4 balancer never sees the path, so it cannot steer embedding requests to their server.",
    })


@grader("load-balancing.grpc-layer")
def grpc_layer(answer):
    return one_of(answer, "l7", {
        "l4": "An L4 balancer chooses once per connection; with one HTTP/2 connection every request goes to "
              "the same backend (the keep-alive experiment shows it).",
        "l7": "Right: an HTTP/2-aware L7 balancer picks a backend for each request (each stream), even on "
              "one connection.",
    })


# -- lab 1, build-it: a least-connections picker on real replicas -------------------------------
_BUILD_LANES, _BUILD_WEIGHTS = [4, 2, 2], [2, 1, 1]


def _drive(picker, fleet, tokens, weights, concurrency: int = 8) -> dict:
    """Send ``tokens`` to the real ``fleet`` from ``concurrency`` threads, each backend chosen by
    ``picker.pick()`` and released by ``picker.done(i)``; note, for each pick, the true in-flight counts."""
    import threading  # noqa: PLC0415
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    import httpx  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    lock, n = threading.Lock(), len(fleet)
    inflight, served = [0] * n, [0] * n
    picks, latencies, errors = [], [], []
    w = np.asarray(weights, dtype=float)
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency * n)) as client:

        def one(k):
            with lock:
                try:
                    i = picker.pick()
                except Exception as exc:  # noqa: BLE001 - the learner's code: report, do not crash
                    errors.append(f"pick() raised {type(exc).__name__}: {exc}")
                    return
                if not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n:
                    errors.append(f"pick() returned {i!r}; it must return a backend index 0..{n - 1}")
                    return
                i = int(i)
                picks.append((i, list(inflight), list(served)))
                inflight[i] += 1
                served[i] += 1
            t0 = time.perf_counter()
            client.post(fleet[i].url + "/generate", json={"tokens": int(tokens[k])}).raise_for_status()
            latencies.append((time.perf_counter() - t0) * 1000)
            with lock:
                inflight[i] -= 1
                try:
                    picker.done(i)
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"done({i}) raised {type(exc).__name__}: {exc}")

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(len(tokens))))

    def share(rule) -> float:
        ok = 0
        for i, now, total in picks:
            score = np.asarray(rule(now, total), dtype=float)
            ok += score[i] <= score.min() + 1e-9
        return ok / max(len(picks), 1)

    return {"errors": errors, "served": served, "n_picks": len(picks),
            "p99_ms": float(np.percentile(latencies, 99)) if latencies else float("nan"),
            "least_loaded": share(lambda now, total: np.asarray(now) / w),
            "least_loaded_unweighted": share(lambda now, total: now),
            "fewest_served": share(lambda now, total: np.asarray(total) / w)}


class _RoundRobin:
    def __init__(self, n):
        self.n, self.k = n, -1

    def pick(self):
        self.k = (self.k + 1) % self.n
        return self.k

    def done(self, i):
        pass


@grader("load-balancing.build-least-conn")
def build_least_conn(picker_cls):
    """Run the learner's picker as the balancer in front of 3 real llm_sim replicas (4, 2, 2 lanes)."""
    from .. import services  # noqa: PLC0415
    from ..workload import bimodal_tokens  # noqa: PLC0415

    picker = picker_cls(list(_BUILD_WEIGHTS))
    tokens = bimodal_tokens(120, short=10, long=500, long_fraction=0.15, seed=5)
    env = {"LANES": ",".join(map(str, _BUILD_LANES)), "TOKEN_MS": 0.4}
    with services.app("labsupport.apps.llm_sim:app", replicas=3, name="lcgrader", env=env) as fleet:
        mine = _drive(picker, fleet, tokens, _BUILD_WEIGHTS)
        if mine["errors"]:
            return Feedback(False, mine["errors"][0])
        rr = _drive(_RoundRobin(3), fleet, tokens, _BUILD_WEIGHTS)
    served, total = mine["served"], sum(mine["served"])
    numbers = (f"(your picker: p99 {mine['p99_ms']:.0f} ms, requests per backend {served}; round robin: "
               f"p99 {rr['p99_ms']:.0f} ms, {rr['served']})")
    if mine["least_loaded"] >= 0.98:
        return Feedback(True, "Right: every request went to the backend with the fewest requests in flight per unit "
                              f"of weight {numbers}.")
    if max(served) >= 0.9 * total:
        return Feedback(False, f"One backend took {max(served)} of {total} requests: your in-flight counts never "
                               "tell the backends apart (does pick() count the request it sends? ties then always go "
                               f"to the same index) {numbers}.")
    if mine["least_loaded_unweighted"] >= 0.98:
        return Feedback(False, "Your picker ignores the weights: it evens out the raw in-flight counts, so the 2-lane "
                               "backends hold as many requests as the 4-lane one. Divide in-flight by the weight "
                               f"{numbers}.")
    if mine["fewest_served"] >= 0.9:
        return Feedback(False, "Your picker balances the requests ever sent, not those in flight: done() never "
                               "lowers the count, so this is weighted round robin by count, blind to a backend "
                               f"stuck with long requests. Decrement in done() {numbers}.")
    return Feedback(False, f"Only {mine['least_loaded']:.0%} of your picks went to a backend with the fewest requests "
                           f"in flight per unit of weight {numbers}.")
