"""labsupport.resilience.chain and apps.resilience_chain: a real two-process chain (one retrying layer
over a bottom), each scenario a count at the bottom."""

import asyncio

import pytest

from labsupport import services
from labsupport.resilience.chain import Chain


@pytest.fixture(scope="module")
def chain():
    c = Chain.start(("mid",), bottom="store")
    yield c
    c.close()
    services.stop_all()


def run(chain, **kw):
    return asyncio.run(chain.run(**kw))


def test_a_failing_bottom_gets_every_try_and_a_healthy_one_only_the_first(chain):
    chain.configure(tries=3, timeout_ms=500, budget=None, deadline=False)
    chain.fault("503")
    failing = run(chain, n=4, deadline_s=2.0)
    assert failing["bottom_per_request"] == 3 and failing["ok"] == 0
    chain.fault("ok")
    healthy = run(chain, n=4, deadline_s=2.0)
    assert healthy["bottom_per_request"] == 1 and healthy["ok"] == 4


def test_a_hung_bottom_keeps_getting_retries_after_the_user_gave_up(chain):
    chain.configure(tries=3, timeout_ms=200, budget=None, deadline=False)
    chain.fault("hang")
    m = run(chain, n=3, deadline_s=0.3)
    assert m["gave_up"] == 3 and m["bottom_per_request"] == 3
    assert m["after_gave_up_per_request"] >= 1  # the third try starts at ~0.4 s, after the user left at 0.3 s


def test_a_deadline_passed_down_stops_the_retries_with_the_user(chain):
    chain.configure(tries=3, timeout_ms=200, budget=None, deadline=True)
    chain.fault("hang")
    m = run(chain, n=3, deadline_s=0.3, send_deadline=True)
    assert m["bottom_per_request"] <= 2 and m["after_gave_up_per_request"] < 1


def test_a_budget_refuses_retries_beyond_its_floor_and_share(chain):
    chain.configure(tries=3, timeout_ms=500, deadline=False, budget={"ratio": 0.0, "floor": 1, "window_s": 10})
    chain.fault("503")
    m = run(chain, n=4, deadline_s=2.0)
    assert m["bottom_calls"] == 4 + 1  # four first tries, one retry (the floor)
    assert m["budget_denied"]["mid"] == 4  # three first retries refused, and the retried request's second
