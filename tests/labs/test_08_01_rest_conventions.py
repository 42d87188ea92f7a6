"""Lab 8.1: REST conventions on a model registry (labs/08-api-design/01-rest-conventions.ipynb)."""

LAB = "labs/08-api-design/01-rest-conventions.ipynb"


def test_each_status_code_was_provoked_by_a_real_request(lab_results):
    """201, 200, 409, 422, 400, 404, 500 and 429, each from the call chosen to cause it."""
    codes = lab_results(LAB)["status_by_call"]
    assert [codes[k] for k in ["POST /models (new)", "GET /models/{id}", "POST /models (name taken)",
                               "POST /models (bad name)", "PUT /models/{id} (other name)", "GET /models/999999",
                               "POST versions (p = r = 0)", "GET /models x60 (batch-job)"]] == \
        [201, 200, 409, 422, 400, 404, 500, 429], codes


def test_rate_limit_refused_the_burst_beyond_the_limit(lab_results):
    """60 requests at once against 40 per second: some refused with Retry-After, most let through."""
    r = lab_results(LAB)
    assert r["burst_429"] >= 10 and r["burst_200"] >= 30 and r["retry_after_present"] is True, r


def test_a_500_carries_a_request_id_and_no_stack_trace(lab_results):
    r = lab_results(LAB)
    assert r["error_500_has_request_id"] is True and r["error_500_has_traceback"] is False


def test_only_post_changes_state_when_repeated(lab_results):
    """Each method sent twice: only POST's second call changed what PostgreSQL holds; PUT/DELETE's first did."""
    r = lab_results(LAB)
    assert r["second_call_changes_state"] == {"GET": False, "PUT": False, "POST": True, "DELETE": False}
    assert r["first_call_changes_state"] == {"GET": False, "PUT": True, "POST": True, "DELETE": True}
    assert r["repeat_statuses"]["DELETE"] == "204, 404"


def test_openapi_documents_the_declared_codes_but_not_middleware_ones(lab_results):
    r = lab_results(LAB)
    assert r["openapi_operations"] == 7
    assert "409" in r["openapi_codes"]["POST /models"] and "400" in r["openapi_codes"]["PUT /models/{model_id}"]
    assert r["undocumented_codes_seen"] == ["429", "500"], r["undocumented_codes_seen"]


def test_schemathesis_finds_the_planted_500_from_the_schema_alone(lab_results):
    """Bodies generated from the OpenAPI schema: at least one hit precision = recall = 0 and got a 5xx."""
    r = lab_results(LAB)
    assert r["fuzz_cases"] >= 30 and r["fuzz_zero_zero_errors"] >= 1, r
