"""Graders of chapter 6, labs 5-7 (labsupport.exercises.caching_ml): right answers and typical wrong ones."""

import pytest

from grading import ok, wrong
from labsupport.check import get, grade


def test_every_grader_is_registered():
    """All nine exercises of labs 5-7 have a grader."""
    for eid in ["redis-type-choice", "pipeline-seconds", "queue-crash", "gpu-hours-saved", "gpu-time-fraction",
                "unsafe-to-share", "cdn-rtt-saving", "weights-download", "cdn-what-to-cache"]:
        assert callable(get(f"caching.{eid}"))


def test_redis_type_choice():
    """Sorted set (any spelling) is right; hash and list are wrong with a reason."""
    for right in ["sorted set", "Sorted Set", "zset", "sorted_set"]:
        ok("caching.redis-type-choice", right)
    wrong("caching.redis-type-choice", "hash", "not ordered")
    wrong("caching.redis-type-choice", "list", "arrival order")
    wrong("caching.redis-type-choice", "dictionary", "choose one of")


def test_pipeline_seconds():
    """10 s is right; milliseconds and one round trip are caught."""
    ok("caching.pipeline-seconds", 10)
    ok("caching.pipeline-seconds", 10.5)
    wrong("caching.pipeline-seconds", 10_000, "milliseconds")
    wrong("caching.pipeline-seconds", 0.001, "single round trip")
    wrong("caching.pipeline-seconds", 1, "too low")


def test_queue_crash():
    """'gone' is right; 'pending' confuses lists with streams."""
    ok("caching.queue-crash", "gone")
    ok("caching.queue-crash", " Gone ")
    wrong("caching.queue-crash", "pending", "streams")
    wrong("caching.queue-crash", "back in the list", "brpop")


def test_gpu_hours_saved():
    """33.3 GPU-hours is right; the misses' share, GPU-seconds and the whole day are caught."""
    ok("caching.gpu-hours-saved", 33.3)
    wrong("caching.gpu-hours-saved", 77.8, "misses")
    wrong("caching.gpu-hours-saved", 120_000, "gpu-seconds")
    wrong("caching.gpu-hours-saved", 111.1, "without a cache")


def test_gpu_time_fraction():
    """0.082 (or 8.2 as a percentage) is right; the hit rate itself is the classic wrong answer."""
    ok("caching.gpu-time-fraction", 0.082)
    ok("caching.gpu-time-fraction", 8.2)
    wrong("caching.gpu-time-fraction", 0.35, "per token")
    wrong("caching.gpu-time-fraction", 1 / 6, "ratio of answer lengths")
    wrong("caching.gpu-time-fraction", 0.35 * 50 / 300, "denominator")


def test_unsafe_to_share():
    """b and d are right in any order or case; including a or c, or missing one, is wrong."""
    ok("caching.unsafe-to-share", ["b", "d"])
    ok("caching.unsafe-to-share", ["D", "b"])
    wrong("caching.unsafe-to-share", ["a", "b", "d"], "same answer for every user")
    wrong("caching.unsafe-to-share", ["b"], "missing")
    wrong("caching.unsafe-to-share", "b", "missing")


def test_cdn_rtt_saving():
    """444 ms is right; one round trip, and the before/after latencies, are caught."""
    ok("caching.cdn-rtt-saving", 444)
    wrong("caching.cdn-rtt-saving", 148, "three")
    wrong("caching.cdn-rtt-saving", 480, "without the edge")
    wrong("caching.cdn-rtt-saving", 36, "with the edge")


def test_weights_download():
    """160 s is right; the link-speed answer and a unit slip are caught."""
    ok("caching.weights-download", 160)
    wrong("caching.weights-download", 32, "window")
    wrong("caching.weights-download", 16, "0.16")
    wrong("caching.weights-download", 1280, "bits")


def test_cdn_what_to_cache():
    """(b), the per-user answer, is right; the static files are wrong with a reason."""
    ok("caching.cdn-what-to-cache", "b")
    for static in "acd":
        wrong("caching.cdn-what-to-cache", static, "everyone")


@pytest.mark.parametrize("eid", ["caching.pipeline-seconds", "caching.gpu-hours-saved", "caching.weights-download"])
def test_unanswered_and_unreadable(eid):
    """None is 'not answered yet'; text where a number is expected is reported, not raised."""
    assert not grade(eid, None).ok
    assert "could not read" in grade(eid, "ten").message.lower()
