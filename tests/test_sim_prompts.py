"""labsupport.sim.prompts: the chatbot workload, prompt normalisation, and the prompt-cache model."""

from dataclasses import replace

from labsupport.sim.prompts import (PromptCacheConfig, chatbot_workload, normalise_prompt, popular_questions,
                                    simulate)


def test_normalise_folds_case_punctuation_and_spaces():
    """Variants of one question map to one key; different questions stay different."""
    variants = ["What is the capital of France?", "  what  is the capital of FRANCE?? ",
                "what is the capital of france"]
    assert {normalise_prompt(v) for v in variants} == {"what is the capital of france"}
    assert normalise_prompt("What is 2 times 3?") != normalise_prompt("What is 3 times 2?")


def test_workload_is_seeded():
    """Same seed, same prompts; another seed, other prompts."""
    assert chatbot_workload(300, seed=1) == chatbot_workload(300, seed=1)
    assert chatbot_workload(300, seed=1) != chatbot_workload(300, seed=2)


def test_unique_fraction_controls_one_off_prompts():
    """With unique_fraction=1 nothing repeats; with 0 every prompt is a popular question."""
    assert simulate(PromptCacheConfig(n_requests=500, unique_fraction=1.0)).hits == 0
    popular = {normalise_prompt(q) for q in popular_questions()}
    assert all(normalise_prompt(p) in popular for p in chatbot_workload(500, unique_fraction=0.0))


def test_hit_rate_grows_with_skew_and_normalisation():
    """Simulated hit rate: skew 0.6 < 1.0 < 1.4, and normalised keys beat raw keys."""
    cfg = PromptCacheConfig(n_requests=800)
    rates = [simulate(replace(cfg, skew=s)).hit_rate for s in (0.6, 1.0, 1.4)]
    assert rates[0] < rates[1] < rates[2]
    assert simulate(cfg).hit_rate > simulate(replace(cfg, normalise=False)).hit_rate


def test_lru_capacity_limits_hits():
    """A cache of 10 answers hits less than an unbounded one; outcomes add up."""
    cfg = PromptCacheConfig(n_requests=1000, skew=1.0)
    small, unbounded = simulate(replace(cfg, cache_entries=10)), simulate(cfg)
    assert small.hits < unbounded.hits
    assert small.hits + small.misses == 1000 == len(small.hit)


def test_given_prompts_replay_exactly_and_match_the_generated_workload():
    """``prompts=`` replays that very stream; the same workload fields and seed generate the same one."""
    prompts = chatbot_workload(800, skew=1.0, seed=42)
    given = simulate(PromptCacheConfig(prompts=prompts))
    assert given.hit == simulate(PromptCacheConfig(n_requests=800, skew=1.0, seed=42)).hit
    assert given.requests == 800


def test_same_numbers_as_before_the_config_refactor():
    """Hits recorded with the old ``simulate_cache(prompts, ...)`` dict API (800 prompts, seed 42)."""
    cfg = PromptCacheConfig(n_requests=800, seed=42)
    raw, small = replace(cfg, normalise=False), replace(cfg, cache_entries=20)
    assert [simulate(cfg).hits, simulate(raw).hits, simulate(small).hits] == [281, 186, 116]
