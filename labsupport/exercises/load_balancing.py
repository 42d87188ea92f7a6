"""Graders for chapter 5, load balancing (labs in labs/05-load-balancing/)."""

from __future__ import annotations

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

    tokens = lb.lognormal_tokens(3000, mean=100, sigma=1.5, seed=7)
    expected = lb.simulate("p2c", tokens, n_servers=20, slots=1, token_ms=1.0, load=0.8, seed=7).p99_ms
    random_p99 = lb.simulate("random", tokens, n_servers=20, slots=1, token_ms=1.0, load=0.8, seed=7).p99_ms
    lc_p99 = lb.simulate("least_conn", tokens, n_servers=20, slots=1, token_ms=1.0, load=0.8, seed=7).p99_ms
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
