"""Graders of chapter 5 (load balancing): right answers pass, typical wrong answers get a helpful hint."""

import pytest

from labsupport.check import GRADERS, get, grade


def test_every_lab_exercise_has_a_grader():
    """All ten chapter-5 exercise ids are registered."""
    get("load-balancing.weights")
    ids = {k for k in GRADERS if k.startswith("load-balancing.")}
    assert ids == {"load-balancing." + s for s in (
        "dead-backend-fraction", "weights", "hang-retry", "equal-lengths", "sim-p2c-p99", "ring-moved",
        "modn-moved", "prefix-rr-hit-rate", "l4-misroute", "grpc-layer", "build-least-conn")}


@pytest.mark.parametrize("answer", [1 / 3, 0.33, 0.34])
def test_dead_backend_fraction_right(answer):
    """One dead server of three under round robin: a third of requests fail."""
    assert grade("load-balancing.dead-backend-fraction", answer)


@pytest.mark.parametrize("answer, hint", [(2 / 3, "succeeds"), (0, "dead server"), (1, "healthy|answer")])
def test_dead_backend_fraction_wrong(answer, hint):
    """Typical slips (success share, zero, all) are rejected with a pointer."""
    import re

    fb = grade("load-balancing.dead-backend-fraction", answer)
    assert not fb and re.search(hint, fb.message)


@pytest.mark.parametrize("answer", [[2, 2, 1, 1], [4, 4, 2, 2], [80, 80, 40, 40], (1.0, 1.0, 0.5, 0.5)])
def test_weights_right(answer):
    """Any list in the 2:2:1:1 proportion is right."""
    assert grade("load-balancing.weights", answer)


@pytest.mark.parametrize("answer, hint", [([1, 1, 1, 1], "round robin"), ([1, 1, 2, 2], "Upside down"),
                                          ([2, 1], "4 numbers"), ([2, 2, 0, 1], "positive"),
                                          ([3, 3, 1, 1], "ratios of capacity")])
def test_weights_wrong(answer, hint):
    """Equal, inverted, short, zero and wrong-ratio weights each get their own explanation."""
    fb = grade("load-balancing.weights", answer)
    assert not fb and hint in fb.message


def test_hang_retry():
    """Only 'b' (a POST already sent is not replayed) is right; the others explain why not."""
    assert grade("load-balancing.hang-retry", "b") and grade("load-balancing.hang-retry", "B")
    for wrong in ("a", "c"):
        fb = grade("load-balancing.hang-retry", wrong)
        assert not fb and len(fb.message) > 30
    assert "Choose one of" in grade("load-balancing.hang-retry", "d").message


def test_equal_lengths():
    """Round robin wins when every request is the same length; other policies are rejected with reasons."""
    assert grade("load-balancing.equal-lengths", "round_robin")
    for wrong in ("least_conn", "p2c", "random"):
        fb = grade("load-balancing.equal-lengths", wrong)
        assert not fb and ("spread plot" in fb.message or "chance" in fb.message)


def test_sim_p2c_p99_right_and_wrong():
    """The grader reruns the seeded simulation: its own p2c value passes; random's and 1 ms fail."""
    from labsupport.sim import lb
    from labsupport.workload import lognormal_tokens

    tokens = lognormal_tokens(3000, mean=100, sigma=1.5, seed=7)
    def run(policy):
        cfg = lb.LBConfig(tokens, policy=policy, n_servers=20, lanes=1, token_ms=1.0, load=0.8, seed=7)
        return lb.simulate(cfg).p99_ms

    assert grade("load-balancing.sim-p2c-p99", run("p2c"))
    fb = grade("load-balancing.sim-p2c-p99", run("random"))
    assert not fb and "'random'" in fb.message
    assert not grade("load-balancing.sim-p2c-p99", 1.0)


def test_ring_and_modn_moved():
    """Ring: about 1/10 for the 10th server; mod-N: about 4/5 from 4 to 5 servers; swaps are caught."""
    assert grade("load-balancing.ring-moved", 0.1) and grade("load-balancing.ring-moved", 0.11)
    fb = grade("load-balancing.ring-moved", 0.9)
    assert not fb and "hash % n" in fb.message
    assert grade("load-balancing.modn-moved", 0.8) and grade("load-balancing.modn-moved", 4 / 5)
    fb = grade("load-balancing.modn-moved", 0.2)
    assert not fb and "ring" in fb.message


def test_prefix_rr_hit_rate():
    """Round robin over 30 prompts with 10 cached per replica: about 1/3; 1.0 is the hashing answer."""
    for right in (1 / 3, 0.33):
        assert grade("load-balancing.prefix-rr-hit-rate", right)
    fb = grade("load-balancing.prefix-rr-hit-rate", 1)
    assert not fb and "hashing" in fb.message


def test_l4_misroute():
    """3 chat + 1 embed behind L4: 3/4 of embedding requests miss; 1/4 is the share that hits."""
    assert grade("load-balancing.l4-misroute", 0.75)
    fb = grade("load-balancing.l4-misroute", 0.25)
    assert not fb and "miss" in fb.message
    assert not grade("load-balancing.l4-misroute", 0.5)


def test_grpc_layer():
    """Per-request balancing of one HTTP/2 connection needs L7; L4 is rejected with the reason."""
    assert grade("load-balancing.grpc-layer", "L7") and grade("load-balancing.grpc-layer", "l7")
    fb = grade("load-balancing.grpc-layer", "L4")
    assert not fb and "per connection" in fb.message


def test_unanswered_is_pending():
    """The notebook's placeholder (None) is reported as not answered yet, not as wrong."""
    assert "Not answered" in grade("load-balancing.weights", None).message


# -- build-it: a least-connections picker against 3 real llm_sim replicas -----------------------
def _cls(source: str):
    from buildit import defined

    return defined(source, "LeastConnPicker")


def test_build_least_conn_right_and_wrong():
    """Right picker passes; never decrementing, ignoring weights and never counting are each named."""
    from grading import ok, wrong
    from lb_buildit_solutions import IGNORES_WEIGHTS, NEVER_COUNTS, NEVER_DECREMENTS, RIGHT

    ok("load-balancing.build-least-conn", _cls(RIGHT))
    wrong("load-balancing.build-least-conn", _cls(NEVER_DECREMENTS), "done()", "in flight")
    wrong("load-balancing.build-least-conn", _cls(IGNORES_WEIGHTS), "weights")
    wrong("load-balancing.build-least-conn", _cls(NEVER_COUNTS), "one backend took")


def test_build_least_conn_in_the_notebook():
    """Injected into lab 5.1: the right picker passes and the never-decrementing one fails."""
    from buildit import inject_solutions
    from lb_buildit_solutions import NEVER_DECREMENTS, RIGHT

    verdicts = inject_solutions("labs/05-load-balancing/01-policies-live.ipynb", "load-balancing.build-least-conn",
                                {"right": RIGHT, "never_decrements": NEVER_DECREMENTS})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["never_decrements"].ok and "done()" in verdicts["never_decrements"].message
