"""Graders of chapter 11 (labsupport/exercises/resilience.py): right answers pass, typical wrong ones get
feedback that says what went wrong; the build-it grader runs right and wrong Lua on a real Valkey."""

import pytest

from buildit import defined, inject_solutions
from grading import ok, wrong
from labsupport.check import get

RATE_LAB = "labs/11-resilience/01-rate-limiting.ipynb"


def test_unanswered_is_not_right():
    wrong("resilience.fixed-window-burst", None, "not answered")


def test_fixed_window_burst():
    """100 per minute, fixed window: 200 in two seconds around an edge."""
    ok("resilience.fixed-window-burst", 200)
    wrong("resilience.fixed-window-burst", 100, "last second")
    wrong("resilience.fixed-window-burst", 150, "too low")


def test_bucket_burst():
    """Capacity 50 + 10 s x 10/s = 150."""
    ok("resilience.bucket-burst", 150)
    wrong("resilience.bucket-burst", 650, "capacity")
    wrong("resilience.bucket-burst", 100, "full")
    wrong("resilience.bucket-burst", 50, "keep arriving")


def test_race_fix():
    ok("resilience.race-fix", "c")
    wrong("resilience.race-fix", "a", "other two")
    wrong("resilience.race-fix", "b", "narrows")
    wrong("resilience.race-fix", "d", "race")


# -- build-it: a token bucket in Lua, graded on a real Valkey -----------------------------------------
TAKE = '''
def take(r, key, capacity, rate_per_s, now_ms):
    return int(r.eval(TOKEN_BUCKET_LUA, 1, key, capacity, rate_per_s, int(now_ms)))
'''

RIGHT = '''
TOKEN_BUCKET_LUA = """
local cap, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens, ts = cap, now end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', math.max(ts, now))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)
return wait
"""
''' + TAKE


def _variant(old: str, new: str) -> str:
    assert old in RIGHT, old
    return RIGHT.replace(old, new)


WRONG = {
    "no_refill": _variant("tokens + math.max(0, now - ts) * rate / 1000", "tokens"),
    "no_cap": _variant("math.min(cap, tokens + math.max(0, now - ts) * rate / 1000)",
                       "tokens + math.max(0, now - ts) * rate / 1000"),
    "charges_denied": _variant("if tokens >= 1 then tokens = tokens - 1 else wait",
                               "tokens = tokens - 1; if tokens >= 0 then wait = 0 else wait"),
    "keeps_old_time": _variant("'ts', math.max(ts, now)", "'ts', ts"),
    "no_expiry": _variant("redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)", ""),
    "wrong_wait": _variant("math.ceil((1 - tokens) * 1000 / rate)", "1000"),
    "syntax_error": _variant("local wait = 0", "local wait = = 0"),
    "in_python": '''
_buckets = {}
def take(r, key, capacity, rate_per_s, now_ms):
    tokens, ts = _buckets.get(key, (capacity, now_ms))
    tokens = min(capacity, tokens + (now_ms - ts) * rate_per_s / 1000)
    if tokens >= 1:
        _buckets[key] = (tokens - 1, now_ms)
        return 0
    _buckets[key] = (tokens, now_ms)
    return int((1 - tokens) * 1000 / rate_per_s) + 1
''',
}


def test_right_token_bucket_passes():
    fb = get("resilience.build-token-bucket")(defined(RIGHT, "take"))
    assert fb.ok, fb.message


@pytest.mark.parametrize(("name", "words"), [
    ("no_refill", ["refill"]), ("no_cap", ["capacity"]), ("charges_denied", ["charged"]),
    ("keeps_old_time", ["last"]), ("no_expiry", ["expiry"]), ("wrong_wait", ["500 ms"]),
    ("syntax_error", ["rejected"]), ("in_python", ["valkey"]),
])
def test_wrong_token_buckets_are_explained(name, words):
    fb = get("resilience.build-token-bucket")(defined(WRONG[name], "take"))
    assert not fb.ok, name
    for w in words:
        assert w.lower() in fb.message.lower(), (name, fb.message)


def test_skeleton_is_not_written_yet():
    from labsupport.check import NOT_WRITTEN, grade
    skeleton = "TOKEN_BUCKET_LUA = None\n" + '''
def take(r, key, capacity, rate_per_s, now_ms):
    if TOKEN_BUCKET_LUA is None:
        raise NotImplementedError("write TOKEN_BUCKET_LUA above")
'''
    assert grade("resilience.build-token-bucket", defined(skeleton, "take")).message == NOT_WRITTEN


def test_token_bucket_graded_inside_the_lab():
    """The lab's own check cell, with a right and a wrong solution injected into its kernel."""
    verdicts = inject_solutions(RATE_LAB, "resilience.build-token-bucket",
                                {"right": RIGHT, "no_cap": WRONG["no_cap"]})
    assert verdicts["right"].ok, verdicts["right"].message
    assert not verdicts["no_cap"].ok


def test_expected_duplicates():
    ok("resilience.expected-duplicates", 250)
    wrong("resilience.expected-duplicates", 200, "geometric")
    wrong("resilience.expected-duplicates", 1250, "first attempt")
    wrong("resilience.expected-duplicates", 0, "insert")


def test_safe_to_retry():
    ok("resilience.safe-to-retry", ["a", "b", "d"])
    ok("resilience.safe-to-retry", "d, b, a")
    wrong("resilience.safe-to-retry", ["a", "b", "c", "d"], "post")
    wrong("resilience.safe-to-retry", ["a", "b", "d", "e"], "patch")
    wrong("resilience.safe-to-retry", ["a"], "missing")


def test_threads_held():
    ok("resilience.threads-held", 400)
    wrong("resilience.threads-held", 100, "rate x time")
    wrong("resilience.threads-held", 200, "two seconds")


def test_why_half_open():
    ok("resilience.why-half-open", "b")
    wrong("resilience.why-half-open", "c", "worse")
    wrong("resilience.why-half-open", "d", "tail")


def test_amplification():
    ok("resilience.amplification", 81)
    wrong("resilience.amplification", 12, "multiply")
    wrong("resilience.amplification", 27, "four")
    wrong("resilience.amplification", 64, "3^4")


def test_full_jitter_max():
    ok("resilience.full-jitter-max", 0.8)
    wrong("resilience.full-jitter-max", 0.4, "average")
    wrong("resilience.full-jitter-max", 1.6, "counting from 0")


def test_queue_size():
    ok("resilience.queue-size", 20)
    wrong("resilience.queue-size", 2.5, "200")
    wrong("resilience.queue-size", 8, "workers")
