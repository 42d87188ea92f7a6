"""A seeded chatbot workload, prompt normalisation, and a fast model of a prompt cache.

    prompts = chatbot_workload(n_requests=600, skew=1.0, unique_fraction=0.3, seed=42)
    normalise_prompt("  What is the capital of FRANCE?? ")   # -> "what is the capital of france"
    r = simulate(PromptCacheConfig(n_requests=600, skew=1.0, cache_entries=100, normalise=True, seed=42))
    r.hit_rate, r.hits, r.misses, r.hit (one bool per request)
    simulate(PromptCacheConfig(prompts=prompts))              # replay these very prompts instead

The workload: ``n_intents`` popular questions whose popularity follows a Zipf law with exponent
``skew`` (rank r is asked with weight 1 / r**skew), typed with small differences (case, spaces,
punctuation), plus a ``unique_fraction`` of long one-off requests that never repeat. The same seed
gives the same prompts. Chapter 6, lab "Prediction caching for a chatbot", explains why.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..workload import zipf_requests

_PUNCT = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def normalise_prompt(text: str) -> str:
    """Lowercase, drop punctuation, collapse runs of whitespace: the cache key of a prompt."""
    return _SPACES.sub(" ", _PUNCT.sub("", text.lower())).strip()


# -- the popular questions ---------------------------------------------------------------------
_COUNTRIES = ("France Japan Brazil Canada Kenya Norway Peru India Egypt Chile Spain Vietnam Ghana Poland "
              "Mexico Italy Germany Australia Argentina Nigeria Sweden Turkey Greece Portugal Morocco "
              "Thailand Indonesia Colombia Ireland Finland").split()
_TASKS = ["reverse a list", "read a CSV file", "sort a dictionary by value", "merge two dictionaries",
          "parse JSON", "remove duplicates from a list", "split a string", "get the current date",
          "write a file", "make an HTTP request", "measure elapsed time", "flatten a nested list",
          "round a number", "check if a file exists", "count words in a string", "generate a random number",
          "convert a string to an integer", "find the maximum of a list", "iterate over a dictionary",
          "handle an exception"]
_LANGS = ["Python", "JavaScript", "SQL", "Rust", "Go", "Java", "C++", "Bash"]
_PAIRS = [("TCP", "UDP"), ("a list", "a tuple"), ("RAM", "storage"), ("weather", "climate"),
          ("a virus", "bacteria"), ("HTTP", "HTTPS"), ("precision", "recall"), ("mean", "median"),
          ("affect", "effect"), ("latency", "throughput"), ("a process", "a thread"), ("SQL", "NoSQL"),
          ("a loan", "a mortgage"), ("Git", "GitHub"), ("a crocodile", "an alligator"), ("CPU", "GPU"),
          ("stocks", "bonds"), ("baking soda", "baking powder"), ("a hurricane", "a typhoon"),
          ("machine learning", "deep learning")]
_PHRASES = ["good morning", "thank you very much", "where is the station", "I would like a coffee",
            "how much does it cost", "see you tomorrow", "happy birthday", "nice to meet you",
            "where is the toilet", "I am lost", "the bill please", "I love you"]
_LANGUAGES = ["French", "Spanish", "German", "Japanese", "Italian", "Portuguese", "Korean", "Dutch"]
_THINGS = ["a black hole", "inflation", "photosynthesis", "a neural network", "the stock market",
           "a blockchain", "the immune system", "compound interest", "an API", "gravity", "DNS", "a vaccine",
           "quantum computing", "the greenhouse effect", "a recession", "evolution", "electricity",
           "a transformer model", "the internet", "a credit score"]
_UNITS = [("seconds", "minutes"), ("minutes", "hours"), ("hours", "days"), ("days", "weeks"),
          ("centimetres", "metres"), ("grams", "kilograms"), ("millilitres", "litres"), ("inches", "feet"),
          ("ounces", "pounds"), ("metres", "kilometres")]


def popular_questions() -> list[str]:
    """Every popular question (about 2,500), in a fixed order; the workload shuffles them into ranks."""
    qs = [f"What is the capital of {c}?" for c in _COUNTRIES]
    qs += [f"How do I {t} in {lang}?" for t in _TASKS for lang in _LANGS]
    qs += [f"What is the difference between {a} and {b}?" for a, b in _PAIRS]
    qs += [f"Translate '{p}' into {lang}." for p in _PHRASES for lang in _LANGUAGES]
    qs += [f"Explain {t} {how}." for t in _THINGS for how in ("simply", "to a five year old", "in one sentence")]
    qs += [f"How many {small} are in {n} {big}?" for small, big in _UNITS for n in range(2, 100)]
    qs += [f"What is {a} times {b}?" for a in range(2, 31) for b in range(2, 31)]
    return qs


# -- the long tail -----------------------------------------------------------------------------
_TAIL_OPENERS = ["Rewrite this paragraph so it sounds more formal:", "Write a short poem that mentions",
                 "Draft an email to my landlord about", "Summarise these meeting notes for my team:",
                 "Fix the grammar in this cover letter:", "Suggest a name for my startup that does",
                 "Review this function and tell me what is wrong with it:", "Plan a weekend trip that includes"]
_WORDS = ("apple river quarterly budget invoice garden python server sunset deadline kitten router "
          "marathon recipe museum ticket migration cluster violin harbour lantern copper forecast "
          "tuesday spreadsheet bicycle meadow contract robot pizza galaxy bakery sensor thunder "
          "ledger canyon pixel orchard protocol saxophone glacier mortgage festival").split()
_WORDS_ARRAY = np.array(_WORDS)


def _tail_prompt(rng: np.random.Generator) -> str:
    words = _WORDS_ARRAY[rng.integers(len(_WORDS), size=int(rng.integers(18, 36)))]
    return f"{_TAIL_OPENERS[rng.integers(len(_TAIL_OPENERS))]} {' '.join(words)}"


def _retype(q: str, rng: np.random.Generator) -> str:
    """How a user might type a popular question: the same words, different case/spaces/punctuation."""
    roll = rng.random()
    if roll < 0.45:
        return q
    if roll < 0.60:
        return q.lower()
    if roll < 0.70:
        return q.rstrip("?.") + "??"
    if roll < 0.80:
        return q.rstrip("?.")
    if roll < 0.90:
        return "  " + q.replace(" ", "  ", 1) + " "
    return q.upper() if roll < 0.93 else q.lower().rstrip("?.")


def chatbot_workload(n_requests: int = 600, skew: float = 1.0, unique_fraction: float = 0.3,
                     n_intents: int | None = None, seed: int = 42) -> list[str]:
    """``n_requests`` prompts: Zipf(``skew``) over the popular questions, plus one-off long requests."""
    rng = np.random.default_rng(seed)
    questions = popular_questions()
    if n_intents is not None:
        questions = questions[:n_intents]
    order = rng.permutation(len(questions))  # which question is rank 1, 2, ...
    ranked = [questions[i] for i in order]
    one_off = rng.random(n_requests) < unique_fraction
    ranks = zipf_requests(n_requests, len(ranked), skew, rng=rng)
    return [_tail_prompt(rng) if tail else _retype(ranked[rank], rng) for tail, rank in zip(one_off, ranks)]


@dataclass(frozen=True)
class PromptCacheConfig:
    """A chatbot workload replayed through an LRU cache of answers keyed by the (normalised) prompt."""
    n_requests: int = 600
    skew: float = 1.0                    # Zipf exponent of the popular questions
    unique_fraction: float = 0.3         # one-off long requests that never repeat
    n_intents: int | None = None         # None: every popular question
    cache_entries: int | None = None     # answers the cache holds (LRU); None: unbounded
    normalise: bool = True               # key = normalise_prompt(prompt), else the prompt as typed
    seed: int = 42
    prompts: list | None = field(default=None, repr=False)  # replay these; None: chatbot_workload(above)


@dataclass
class PromptCacheResult:
    requests: int
    hits: int
    misses: int
    hit_rate: float
    hit: list = field(repr=False)        # one bool per request


def simulate(cfg: PromptCacheConfig) -> PromptCacheResult:
    """Replay the prompts through an LRU cache of ``cache_entries`` answers (None: unbounded).

    One request at a time, so the result is exact and instant; the lab's real run (Redis in front of
    a real app, many requests in flight) should land close to it.
    """
    prompts = cfg.prompts
    if prompts is None:
        prompts = chatbot_workload(cfg.n_requests, cfg.skew, cfg.unique_fraction, cfg.n_intents, cfg.seed)
    cache_entries, normalise = cfg.cache_entries, cfg.normalise
    cache: OrderedDict = OrderedDict()
    outcome = []
    for p in prompts:
        key = normalise_prompt(p) if normalise else p
        hit = key in cache
        outcome.append(hit)
        if hit:
            cache.move_to_end(key)
            continue
        cache[key] = True
        if cache_entries is not None and len(cache) > cache_entries:
            cache.popitem(last=False)
    n, hits = len(prompts), sum(outcome)
    return PromptCacheResult(requests=n, hits=hits, misses=n - hits, hit_rate=hits / n if n else 0.0,
                             hit=outcome)
