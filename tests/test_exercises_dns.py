"""Graders of chapter 3 (labsupport/exercises/dns.py): right answers pass, typical wrong ones get
feedback that says what went wrong."""

from buildit import defined
from grading import ok, wrong
from labsupport.check import get

IDS = ["rr-heavy-share", "rebalance-time", "far-resolver", "ecs-sees", "worst-case-stale", "queries-per-s",
       "choose-ttl"]


def test_every_grader_is_registered():
    """All chapter 3 ids resolve to a grader, and a placeholder is not an answer."""
    for ex in IDS:
        assert callable(get(f"dns.{ex}"))
        wrong(f"dns.{ex}", None, "not answered")


def test_rr_heavy_share():
    """110 of 140 requests; per-request rotation and the share of clients are named as the mistakes."""
    ok("dns.rr-heavy-share", 110 / 140)
    ok("dns.rr-heavy-share", 0.79)
    wrong("dns.rr-heavy-share", 1 / 3, "caches")
    wrong("dns.rr-heavy-share", 0.4, "clients")
    wrong("dns.rr-heavy-share", 100 / 140, "client 4")
    wrong("dns.rr-heavy-share", 0.1, "too low")


def test_rebalance_time():
    """A full TTL (60 min); the average and the unit slip get their own hints."""
    ok("dns.rebalance-time", 60)
    wrong("dns.rebalance-time", 30, "half")
    wrong("dns.rebalance-time", 0, "cached")
    wrong("dns.rebalance-time", 3600, "minutes")


def test_far_resolver():
    """London, because the server sees the resolver; other choices explain why not; junk lists the choices."""
    ok("dns.far-resolver", "london")
    ok("dns.far-resolver", " London ")
    wrong("dns.far-resolver", "tokyo", "resolver")
    wrong("dns.far-resolver", "both", "resolver")
    wrong("dns.far-resolver", "paris", "choose one of")


def test_ecs_sees():
    """Resolver address and client subnet; the full address and a city are corrected specifically."""
    ok("dns.ecs-sees", ["resolver-ip", "client-subnet"])
    ok("dns.ecs-sees", ["Client-Subnet", "resolver-ip"])
    wrong("dns.ecs-sees", ["resolver-ip", "client-subnet", "client-ip"], "truncated")
    wrong("dns.ecs-sees", ["client-city"], "geoip")
    wrong("dns.ecs-sees", ["resolver-ip"], "missing")
    wrong("dns.ecs-sees", "resolver-ip", "missing")


def test_worst_case_stale():
    """Detection (3 x 10 s) plus a full TTL (300 s); forgetting either part is named."""
    ok("dns.worst-case-stale", 330)
    wrong("dns.worst-case-stale", 300, "detection")
    wrong("dns.worst-case-stale", 310, "three")
    wrong("dns.worst-case-stale", 150, "average")
    wrong("dns.worst-case-stale", 30, "detection time")


def test_queries_per_s():
    """100,000 / 60; per-minute and times-60 mistakes are named."""
    ok("dns.queries-per-s", 1667)
    ok("dns.queries-per-s", 100_000 / 60)
    wrong("dns.queries-per-s", 100_000, "per minute")
    wrong("dns.queries-per-s", 6_000_000, "once per ttl")


def test_choose_ttl():
    """60 s minus up to 10 s of detection; too-cautious and detection slips are named."""
    ok("dns.choose-ttl", 50)
    wrong("dns.choose-ttl", 60, "detection")
    wrong("dns.choose-ttl", 55, "two checks")
    wrong("dns.choose-ttl", 30, "largest")


# -- build-it: a TTL-honouring cache, graded against the real authoritative server -----------------------
TTL_CACHE_RIGHT = '''
import time

class TTLCache:
    def __init__(self, ask):
        self.ask = ask
        self.entries = {}  # name -> (addresses, expires_at)

    def lookup(self, name):
        hit = self.entries.get(name)
        now = time.monotonic()
        if hit and now < hit[1]:
            return hit[0]
        ans = self.ask(name)
        self.entries[name] = (ans.ips, now + ans.ttl_s)
        return ans.ips
'''
TTL_CACHE_NO_CACHE = '''
class TTLCache:
    def __init__(self, ask):
        self.ask = ask

    def lookup(self, name):
        return self.ask(name).ips
'''
TTL_CACHE_FOREVER = '''
class TTLCache:
    def __init__(self, ask):
        self.ask, self.entries = ask, {}

    def lookup(self, name):
        if name not in self.entries:
            self.entries[name] = self.ask(name).ips
        return self.entries[name]
'''
TTL_CACHE_ONE_SLOT = '''
import time

class TTLCache:
    def __init__(self, ask):
        self.ask, self.value, self.expires = ask, None, 0.0

    def lookup(self, name):
        if self.value is None or time.monotonic() >= self.expires:
            ans = self.ask(name)
            self.value, self.expires = ans.ips, time.monotonic() + ans.ttl_s
        return self.value
'''
TTL_CACHE_FIXED_TTL = '''
import time

class TTLCache:
    def __init__(self, ask):
        self.ask, self.entries = ask, {}

    def lookup(self, name):
        hit = self.entries.get(name)
        if hit and time.monotonic() < hit[1]:
            return hit[0]
        ips = self.ask(name).ips
        self.entries[name] = (ips, time.monotonic() + 1.0)  # the first TTL it saw, forever
        return ips
'''
TTL_CACHE_SKELETON = '''
class TTLCache:
    def __init__(self, ask):
        self.ask = ask

    def lookup(self, name):
        raise NotImplementedError
'''


def _cls(source: str):
    return defined(source, "TTLCache")


def test_build_ttl_cache_accepts_a_cache_that_honours_each_answers_ttl():
    """One upstream question per TTL per name, checked on the authority's own counters."""
    ok("dns.build-ttl-cache", _cls(TTL_CACHE_RIGHT))


def test_build_ttl_cache_names_each_typical_mistake():
    """No cache (over-querying), no expiry (stale), one slot for every name, a constant TTL; and a skeleton."""
    wrong("dns.build-ttl-cache", _cls(TTL_CACHE_NO_CACHE), "questions", "expiry")
    wrong("dns.build-ttl-cache", _cls(TTL_CACHE_FOREVER), "past their ttl")
    wrong("dns.build-ttl-cache", _cls(TTL_CACHE_ONE_SLOT), "keyed by name")
    wrong("dns.build-ttl-cache", _cls(TTL_CACHE_FIXED_TTL), "fixed ttl")
    wrong("dns.build-ttl-cache", _cls(TTL_CACHE_SKELETON), "not written yet")


def test_build_ttl_cache_in_the_lab_notebook():
    """The lab's own check cell grades a right and a wrong cache injected into its kernel."""
    from buildit import inject_solutions

    verdicts = inject_solutions("labs/03-dns/01-dns-load-balancing.ipynb", "dns.build-ttl-cache",
                                {"right": TTL_CACHE_RIGHT, "no_cache": TTL_CACHE_NO_CACHE})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["no_cache"].ok and "questions" in verdicts["no_cache"].message
