"""Lab 11.4: retries with backoff and jitter against a recovering server (labs/11-resilience/04-retries.ipynb)."""

LAB = "labs/11-resilience/04-retries.ipynb"
N_SIM = 2000


def test_retrying_at_once_serves_nobody_and_only_adds_load(lab_results):
    """Simulated 2,000 clients, server down 2 s: clients served and calls made with no backoff."""
    r = lab_results(LAB)
    assert r["sim_served"]["none"] < N_SIM / 10, r["sim_served"]
    assert r["sim_calls"]["none"] > 5 * N_SIM


def test_backoff_without_jitter_comes_back_in_synchronised_spikes(lab_results):
    """Peak arrivals per 100 ms after recovery (capacity 100 per 100 ms), exponential vs jittered."""
    r = lab_results(LAB)
    peak = r["sim_peak_after_recovery"]
    assert peak["exponential"] > 5 * max(peak["full"], peak["decorrelated"]), peak
    assert r["sim_served"]["exponential"] < N_SIM / 2, r["sim_served"]


def test_jitter_serves_every_client(lab_results):
    """Clients served with full and decorrelated jitter (simulated), and in the real run with jitter."""
    r = lab_results(LAB)
    assert r["sim_served"]["full"] == N_SIM and r["sim_served"]["decorrelated"] >= 0.98 * N_SIM
    assert r["real_served"]["full"] == r["real_served"]["tenacity"] == 60, r["real_served"]
    assert min(r["real_calls"].values()) > 60  # the real outage did cause retries


def test_a_retry_budget_caps_the_extra_load(lab_results):
    """Simulated calls with a 20% retry budget vs without, for the same outage."""
    r = lab_results(LAB)
    assert r["sim_budget_calls"] <= 1.3 * N_SIM + 10
    assert r["sim_budget_calls"] < r["sim_calls"]["full"] / 3


def test_tenacity_behaves_like_the_teaching_loop_on_the_same_outage(lab_results):
    """Real calls for 60 clients, server down 1 s: tenacity's full jitter vs the teaching loop's."""
    r = lab_results(LAB)
    ours, lib = r["real_calls_full"], r["real_calls_tenacity"]
    assert 60 < lib and 60 < ours and max(ours, lib) < 1.5 * min(ours, lib), (ours, lib)
