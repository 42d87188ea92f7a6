"""Lab 8.3: versions side by side, and errors a program can read (labs/08-api-design/03-versioning-errors.ipynb)."""

LAB = "labs/08-api-design/03-versioning-errors.ipynb"


def test_both_versions_serve_the_same_model_and_only_v1_announces_retirement(lab_results):
    r = lab_results(LAB)
    assert r["same_prediction_both_versions"] is True
    assert r["v1_lifecycle_headers"] == ["deprecation", "link", "sunset"] and r["v2_lifecycle_headers"] == []
    assert r["unknown_version_status"] == 404


def test_problem_details_name_every_bad_field_and_the_envelope_one(lab_results):
    """Three wrong fields in one request: v2 (RFC 9457) lists all three, v1's envelope one."""
    r = lab_results(LAB)
    assert r["fields_named"] == {"v1 envelope": 1, "v2 problem details": 3}, r["fields_named"]
    assert r["v2_content_type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail", "instance"} <= set(r["v2_problem_members"])
    assert r["error_status"] == {"v1": 400, "v2": 422}


def test_a_crash_returns_a_request_id_found_in_the_log_and_no_trace(lab_results):
    r = lab_results(LAB)
    assert r["crash_status"] == {"v1": 500, "v2": 500}
    assert r["crash_leaks_trace"] is False and r["crash_request_id_in_log"] is True
