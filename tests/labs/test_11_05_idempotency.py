"""Lab 11.5: idempotency keys against lost responses (labs/11-resilience/05-idempotency.ipynb)."""

LAB = "labs/11-resilience/05-idempotency.ipynb"
N = 80


def test_retrying_a_plain_post_charges_twice(lab_results):
    """Charges in PostgreSQL for 80 payments when 30% of responses are lost and clients retry."""
    r = lab_results(LAB)
    assert r["duplicates_without_key"] == r["attempts_without_key"] - N  # every retry was a new charge
    assert r["duplicates_without_key"] >= 10, r


def test_an_idempotency_key_leaves_exactly_one_charge_per_payment(lab_results):
    """Same losses and retries with a key per payment: charges, and answers served from the stored response."""
    r = lab_results(LAB)
    assert r["charges_with_key"] == N and r["duplicates_with_key"] == 0
    assert r["attempts_with_key"] > N + 10  # the retries did happen
    assert r["replayed_with_key"] > 0


def test_concurrent_requests_with_one_key_make_one_charge(lab_results):
    """20 simultaneous requests with one key: charges, distinct charge ids in their answers; key misuse."""
    r = lab_results(LAB)
    assert r["concurrent_same_key_charges"] == 1 and r["concurrent_same_key_distinct_ids"] == 1
    assert r["key_reused_other_body_status"] == 422


def test_put_is_idempotent(lab_results):
    """PUTs applied through the lossy proxy (more than 40, retries included), and accounts in a wrong state."""
    r = lab_results(LAB)
    assert r["put_writes_applied"] > 40
    assert r["put_accounts_wrong"] == 0
