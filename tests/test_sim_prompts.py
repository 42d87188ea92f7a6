"""labsupport.sim.prompts: the chatbot workload, prompt normalisation, and the prompt-cache model."""

from labsupport.sim.prompts import chatbot_workload, normalise_prompt, popular_questions, simulate_cache


def test_normalise_folds_case_punctuation_and_spaces():
    """Variants of one question map to one key; different questions stay different."""
    variants = ["What is the capital of France?", "  what  is the capital of FRANCE?? ", "what is the capital of france"]
    assert {normalise_prompt(v) for v in variants} == {"what is the capital of france"}
    assert normalise_prompt("What is 2 times 3?") != normalise_prompt("What is 3 times 2?")


def test_workload_is_seeded():
    """Same seed, same prompts; another seed, other prompts."""
    assert chatbot_workload(300, seed=1) == chatbot_workload(300, seed=1)
    assert chatbot_workload(300, seed=1) != chatbot_workload(300, seed=2)


def test_unique_fraction_controls_one_off_prompts():
    """With unique_fraction=1 nothing repeats; with 0 every prompt is a popular question."""
    assert simulate_cache(chatbot_workload(500, unique_fraction=1.0))["hits"] == 0
    popular = {normalise_prompt(q) for q in popular_questions()}
    assert all(normalise_prompt(p) in popular for p in chatbot_workload(500, unique_fraction=0.0))


def test_hit_rate_grows_with_skew_and_normalisation():
    """Simulated hit rate: skew 0.6 < 1.0 < 1.4, and normalised keys beat raw keys."""
    rates = [simulate_cache(chatbot_workload(800, skew=s))["hit_rate"] for s in (0.6, 1.0, 1.4)]
    assert rates[0] < rates[1] < rates[2]
    prompts = chatbot_workload(800)
    assert simulate_cache(prompts)["hit_rate"] > simulate_cache(prompts, normalise=False)["hit_rate"]


def test_lru_capacity_limits_hits():
    """A cache of 10 answers hits less than an unbounded one; outcomes add up."""
    prompts = chatbot_workload(1000, skew=1.0)
    small, unbounded = simulate_cache(prompts, cache_entries=10), simulate_cache(prompts)
    assert small["hits"] < unbounded["hits"]
    assert small["hits"] + small["misses"] == len(prompts) == len(small["hit"])
