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


def test_the_contract_diff_finds_v2s_two_breaking_changes_and_nothing_in_v1_against_itself(lab_results):
    """labsupport.openapi_diff on the running app's /openapi.json, v1's operations against v2's."""
    r = lab_results(LAB)
    assert r["openapi_self_diff_count"] == 0
    assert r["openapi_breaking_count"] == 2, r["openapi_breaking_changes"]
    assert r["openapi_breaking_kinds"] == ["request-field-added-required", "response-field-removed"]
    assert sorted(r["openapi_breaking_changes"]) == ["request body /features: request-field-added-required",
                                                     "response 200 /churn_probability: response-field-removed"]
    assert {"request-field-added-optional", "response-field-added"} <= set(r["openapi_nonbreaking_kinds"])
    assert r["v1_body_on_v2_status"] == 422                       # the verdict, checked against the server


def test_the_problem_details_library_names_every_field_but_leaks_the_exception_text(lab_results):
    """fastapi-problem-details on the same /v2/predict: right media type and fields, no trace, but the
    500's detail is the exception message and there is no request id; ours has an id and no text."""
    r = lab_results(LAB)
    lib, ours = r["problem_compare"]["fastapi-problem-details"], r["problem_compare"]["hand-written (v2)"]
    assert r["library_fields_named"] == 3 == ours["wrong fields named with their value"]
    assert all(v.startswith("application/problem+json") for v in r["library_media_types"].values())
    assert r["library_leaks_trace"] is False and ours["stack trace in the 500"] is False
    assert r["library_leaks_exception_text"] is True and ours["exception text in the 500"] is False
    assert r["library_request_id"] is False and ours["500 request id found in the log"] is True
