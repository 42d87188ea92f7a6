"""Graders for chapter 6, labs 5-7: Redis data types, prediction caching, CDNs."""

from __future__ import annotations

from ..check import Feedback, close_to, one_of, same_set, grader

# -- lab 5: Redis data types -------------------------------------------------------------------
_TYPE_WHY = {
    "sorted set": "Right: ZINCRBY keeps the click counts ordered as clicks arrive; ZREVRANGE 0 9 reads the top 10.",
    "string": "A string holds one value: you would need a key per product and then fetch and sort them all.",
    "hash": "A hash can hold a counter per product (HINCRBY), but it is not ordered: you would fetch "
            "every field and sort on the client on every page view.",
    "list": "A list keeps arrival order, not click counts: finding the top 10 means reading everything.",
    "set": "A set only knows whether a product is in it, not how many clicks it has.",
    "stream": "A stream is a log of events: you could replay clicks from it, but every page view would "
              "have to recount them.",
}


@grader("caching.redis-type-choice")
def redis_type_choice(answer) -> Feedback:
    key = str(answer).strip().lower().replace("_", " ")
    if key in ("zset", "sortedset"):
        key = "sorted set"
    return one_of(key, "sorted set", _TYPE_WHY)


@grader("caching.pipeline-seconds")
def pipeline_seconds(answer) -> Feedback:
    return close_to(answer, 10.0, rel=0.15, unit=" s", hints={
        10_000.0: "That is the number of milliseconds. The question asks for seconds.",
        0.01: "That would be 10,000 round trips of 1 microsecond. Each round trip here is 1 ms.",
        0.001: "That is the time of a single round trip; there are 10,000 of them, one per SET.",
    })


@grader("caching.queue-crash")
def queue_crash(answer) -> Feedback:
    return one_of(answer, "gone", {
        "gone": "Right: BRPOP removed the job from Redis, and the only copy died with the worker.",
        "back in the list": "Redis does not know the worker died or that the job was unfinished: BRPOP "
                            "already removed it. Nothing puts it back.",
        "pending": "Pending entries belong to streams with consumer groups (XREADGROUP/XACK). A list has "
                   "no such bookkeeping: BRPOP removed the job for good.",
    })


# -- lab 6: prediction caching for a chatbot ----------------------------------------------------
@grader("caching.gpu-hours-saved")
def gpu_hours_saved(answer) -> Feedback:
    # 1,000,000 prompts/day x 0.30 hit rate x 0.4 GPU-s per call / 3600 s per hour
    return close_to(answer, 1_000_000 * 0.30 * 0.4 / 3600, rel=0.05, unit=" GPU-hours", hints={
        1_000_000 * 0.70 * 0.4 / 3600: "That is the GPU time still spent on the misses (70%). "
                                       "The saving comes from the 30% of hits.",
        1_000_000 * 0.30 * 0.4: "That is GPU-seconds. Divide by 3,600 for hours.",
        1_000_000 * 0.30 * 0.4 / 60: "That is GPU-minutes. Divide by 60 once more for hours.",
        1_000_000 * 0.4 / 3600: "That is the whole day's GPU time without a cache; only the hits are saved.",
    })


_SHORT_TOKENS, _LONG_TOKENS, _HIT = 50, 300, 0.35
_GPU_FRACTION = _HIT * _SHORT_TOKENS / (_HIT * _SHORT_TOKENS + (1 - _HIT) * _LONG_TOKENS)


@grader("caching.gpu-time-fraction")
def gpu_time_fraction(answer) -> Feedback:
    value = float(answer)
    if value > 1.5:
        value = value / 100  # a percentage
    return close_to(value, _GPU_FRACTION, rel=0.08, hints={
        _HIT: "35% is the share of calls saved. GPU time is spent per token: the saved calls were "
              "short (50 tokens) while the misses are long (300 tokens).",
        _SHORT_TOKENS / _LONG_TOKENS: "That is the ratio of answer lengths. Weigh each by how often it "
                                      "happens: 0.35 of requests are hits, 0.65 are misses.",
        _HIT * _SHORT_TOKENS / (_HIT * _LONG_TOKENS + (1 - _HIT) * _LONG_TOKENS):
            "Close, but the denominator should be the GPU tokens of ALL requests: "
            "0.35 × 50 (the hits) + 0.65 × 300 (the misses).",
    })


@grader("caching.unsafe-to-share")
def unsafe_to_share(answer) -> Feedback:
    if isinstance(answer, str):
        answer = [answer]
    fb = same_set(answer, {"b", "d"}, name="prompts")
    if fb.ok:
        return Feedback(True, "Right: (b) depends on who is asking and (d) on when; (a) and (c) have one "
                              "answer for everyone, at least until the next model version.")
    got = {str(x).strip().lower() for x in answer}
    if "a" in got or "c" in got:
        return Feedback(False, fb.message + " (a) and (c) have the same answer for every user, so sharing "
                                            "them is the point of the cache.")
    return Feedback(False, fb.message + " Ask of each prompt: would two different users, or the same user "
                                        "an hour later, expect the same answer?")


# -- lab 7: CDN --------------------------------------------------------------------------------
@grader("caching.cdn-rtt-saving")
def cdn_rtt_saving(answer) -> Feedback:
    # 3 round trips (TCP, TLS 1.3, request) at 160 ms to the origin vs 12 ms to an edge
    return close_to(answer, 3 * 160 - 3 * 12, rel=0.05, unit=" ms", hints={
        160 - 12: "That counts one round trip. A new HTTPS connection needs three: TCP handshake, TLS "
                  "handshake, then the request itself.",
        3 * 160: "That is the latency without the edge; the question asks how much the edge saves.",
        3 * 12: "That is the latency with the edge; the question asks how much it saves.",
    })


# 4 GB of weights; one TCP flow moves at most window / RTT (and never more than the link)
_WEIGHTS_MB, _WINDOW_MB, _RTT_S = 4000, 4, 0.160


@grader("caching.weights-download")
def weights_download(answer) -> Feedback:
    expected = _WEIGHTS_MB / (_WINDOW_MB / _RTT_S)  # 160 s
    return close_to(answer, expected, rel=0.1, unit=" s", hints={
        _WEIGHTS_MB / 125: "That is the time at the full 1 Gbit/s (125 MB/s) link speed. Across 160 ms "
                           "one TCP flow cannot fill the link: at most one window (4 MB) per round trip.",
        _WEIGHTS_MB / (_WINDOW_MB / 0.016): "Check the round-trip time: 160 ms is 0.16 s.",
        _WEIGHTS_MB * 8 / (_WINDOW_MB / _RTT_S): "You converted to bits: window and file are both in MB.",
    })


@grader("caching.cdn-what-to-cache")
def cdn_what_to_cache(answer) -> Feedback:
    return one_of(answer, "b", {
        "a": "A versioned file such as model-v3.safetensors is the same for everyone and never changes: the "
             "ideal CDN object (cache it for a year; a new version gets a new name).",
        "b": "Right: a per-user answer is different for every user and is fresh on every request, so an "
             "edge would either miss every time or, worse, show one user's answer to another.",
        "c": "The JavaScript bundle of the chat page is the textbook CDN object: the same bytes for everyone.",
        "d": "A tokenizer file shared by every client is static and identical for everyone: cache it.",
    })
