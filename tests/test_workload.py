"""labsupport.workload: seeded key popularity (Zipf, drifting, uniform) and answer lengths."""

import numpy as np
import pytest

from labsupport.workload import (bimodal_tokens, drifting_requests, lognormal_tokens, uniform_requests,
                                 zipf_probabilities, zipf_requests)


def test_zipf_is_seeded_and_skewed():
    """Same seed, same requests; key 0 is the most requested; probabilities sum to 1."""
    a = zipf_requests(5000, 100, skew=1.0, seed=7)
    assert np.array_equal(a, zipf_requests(5000, 100, skew=1.0, seed=7))
    assert not np.array_equal(a, zipf_requests(5000, 100, skew=1.0, seed=8))
    counts = np.bincount(a, minlength=100)
    assert counts.argmax() == 0 and counts[0] > 5 * counts[50:].mean()
    assert zipf_probabilities(100, 1.0).sum() == pytest.approx(1.0)
    assert np.allclose(zipf_probabilities(10, 0.0), 0.1)


def test_zipf_from_a_generator_is_the_same_draw_as_from_its_seed():
    """rng=... draws what a fresh generator of that seed would: one code path for every caller."""
    assert np.array_equal(zipf_requests(300, 50, 1.1, rng=np.random.default_rng(9)), zipf_requests(300, 50, 1.1, seed=9))


def test_drifting_phases_move_their_window():
    """Phase p draws from [p*shift, p*shift + window): the hot keys move on."""
    phases = drifting_requests(4, 500, window_keys=100, shift_keys=50, seed=1)
    for p, keys in enumerate(phases):
        assert keys.min() >= p * 50 and keys.max() < p * 50 + 100


def test_uniform_keys_are_seeded_and_spread():
    a = uniform_requests(6000, n_keys=30, seed=4)
    assert np.array_equal(a, uniform_requests(6000, n_keys=30, seed=4))
    counts = np.bincount(a, minlength=30)
    assert counts.min() > 0.6 * counts.mean()


def test_workloads_are_seeded_and_shaped():
    """Same seed, same requests; the bimodal mix and the lognormal mean come out as asked."""
    a = bimodal_tokens(5000, short=10, long=1000, long_fraction=0.1, seed=1)
    assert np.array_equal(a, bimodal_tokens(5000, short=10, long=1000, long_fraction=0.1, seed=1))
    assert set(np.unique(a)) == {10, 1000} and abs((a == 1000).mean() - 0.1) < 0.02
    ln = lognormal_tokens(20000, mean=100, sigma=1.0, seed=1)
    assert abs(ln.mean() - 100) < 5
    assert np.all(lognormal_tokens(100, mean=50, sigma=0.0) == 50)
