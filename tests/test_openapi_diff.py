"""labsupport.openapi_diff: hand-made pairs of OpenAPI documents with known verdicts, both directions."""

import copy

import pytest

from labsupport.openapi_diff import breaking_changes, diff, per_version, table


def doc(request=None, response=None, params=None, schemas=None, path="/predict", method="post"):
    """A one-operation OpenAPI 3.1 document: a JSON request body, a 200 JSON response, parameters."""
    op = {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": response or {}}}}}}
    if request is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": request}}}
    if params is not None:
        op["parameters"] = params
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {path: {method: op}},
            "components": {"schemas": schemas or {}}}


def obj(required=(), extra=None, **props):
    s = {"type": "object", "properties": props, "required": list(required)}
    return {**s, **(extra or {})}


INT, STR, NUM = {"type": "integer"}, {"type": "string"}, {"type": "number"}


def kinds(old, new):
    return sorted((c.kind, c.location, c.pointer) for c in breaking_changes(old, new))


def all_kinds(old, new):
    return {(c.kind, c.pointer): c.breaking for c in diff(old, new)}


def test_identical_documents_have_no_changes():
    d = doc(request=obj(["age"], age=INT), response=obj(["p"], p=NUM))
    assert diff(d, copy.deepcopy(d)) == []


def test_removed_path_and_removed_method_break_added_ones_do_not():
    old = doc(response=obj(p=NUM))
    old["paths"]["/predict"]["get"] = {"responses": {}}
    new = copy.deepcopy(old)
    del new["paths"]["/predict"]["get"]
    assert kinds(old, new) == [("method-removed", "path", "")]
    assert kinds(new, old) == []                                     # adding a method is fine
    assert all_kinds(new, old) == {("method-added", ""): False}
    moved = copy.deepcopy(old)
    moved["paths"] = {"/score": moved["paths"].pop("/predict")}
    assert [c.kind for c in breaking_changes(old, moved)] == ["path-removed"]
    assert all_kinds(old, moved)[("path-added", "")] is False


def test_response_field_removed_or_made_optional_breaks_added_does_not():
    old = doc(response=obj(["p", "v"], p=NUM, v=STR))
    gone = doc(response=obj(["p"], p=NUM))
    optional = doc(response=obj(["p"], p=NUM, v=STR))
    assert kinds(old, gone) == [("response-field-removed", "response 200", "/v")]
    assert kinds(old, optional) == [("response-field-became-optional", "response 200", "/v")]
    assert kinds(gone, old) == [] and all_kinds(gone, old) == {("response-field-added", "/v"): False}
    assert kinds(optional, old) == []                                # optional -> required in a response: fine


def test_request_direction_is_the_opposite_of_response_direction():
    old = doc(request=obj(["age"], age=INT))
    new_required = doc(request=obj(["age", "plan"], age=INT, plan=STR))
    new_optional = doc(request=obj(["age"], age=INT, plan=STR))
    made_required = doc(request=obj(["age", "plan"], age=INT, plan=STR))
    assert kinds(old, new_required) == [("request-field-added-required", "request body", "/plan")]
    assert kinds(old, new_optional) == [] and all_kinds(old, new_optional) == {("request-field-added-optional", "/plan"): False}
    assert kinds(new_optional, made_required) == [("request-field-became-required", "request body", "/plan")]
    assert kinds(made_required, new_optional) == []                  # required -> optional in a request: fine


def test_a_removed_request_field_breaks_only_when_unknown_fields_are_refused():
    old = doc(request=obj(["age"], age=INT, tag=STR))
    lenient = doc(request=obj(["age"], age=INT))
    strict = doc(request=obj(["age"], {"additionalProperties": False}, age=INT))
    assert kinds(old, lenient) == [] and all_kinds(old, lenient) == {("request-field-removed", "/tag"): False}
    assert kinds(old, strict) == [("request-field-removed", "request body", "/tag")]


@pytest.mark.parametrize("old_t, new_t, request_breaks, response_breaks", [
    ({"type": "integer"}, {"type": "string"}, True, True),           # a different type: both sides break
    ({"type": "integer"}, {"type": "number"}, False, True),          # widened: fine to send, not to read
    ({"type": "number"}, {"type": "integer"}, True, False),          # narrowed: the other way round
    ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]}, False, True),   # became nullable
    ({"type": "string"}, {"type": "string", "nullable": True}, False, True),                 # OpenAPI 3.0 spelling
])
def test_type_changes_by_direction(old_t, new_t, request_breaks, response_breaks):
    assert bool(kinds(doc(request=obj(x=old_t)), doc(request=obj(x=new_t)))) is request_breaks
    assert bool(kinds(doc(response=obj(x=old_t)), doc(response=obj(x=new_t)))) is response_breaks
    if request_breaks:
        assert kinds(doc(request=obj(x=old_t)), doc(request=obj(x=new_t))) == [("type-changed", "request body", "/x")]


def test_enum_values_removed_from_a_request_break_added_to_a_response_break():
    """The stated rule: clients send request values and switch over response values (strict clients)."""
    abc, ab = {"type": "string", "enum": ["a", "b", "c"]}, {"type": "string", "enum": ["a", "b"]}
    assert kinds(doc(request=obj(s=abc)), doc(request=obj(s=ab))) == [("enum-value-removed", "request body", "/s")]
    assert kinds(doc(request=obj(s=ab)), doc(request=obj(s=abc))) == []
    assert all_kinds(doc(request=obj(s=ab)), doc(request=obj(s=abc))) == {("enum-value-added", "/s"): False}
    assert kinds(doc(response=obj(s=ab)), doc(response=obj(s=abc))) == [("enum-value-added", "response 200", "/s")]
    assert kinds(doc(response=obj(s=abc)), doc(response=obj(s=ab))) == []


def test_tightened_request_bounds_and_patterns_break_loosened_do_not():
    loose = doc(request=obj(age={"type": "integer", "minimum": 0, "maximum": 150}, tag={"type": "string", "maxLength": 64}))
    tight = doc(request=obj(age={"type": "integer", "minimum": 13, "maximum": 150}, tag={"type": "string", "maxLength": 8}))
    patterned = doc(request=obj(age={"type": "integer", "minimum": 0, "maximum": 150},
                                tag={"type": "string", "maxLength": 64, "pattern": "^[a-z]+$"}))
    assert kinds(loose, tight) == [("constraint-narrowed", "request body", "/age"), ("constraint-narrowed", "request body", "/tag")]
    assert kinds(tight, loose) == []
    assert kinds(loose, patterned) == [("constraint-narrowed", "request body", "/tag")]
    assert kinds(doc(response=obj(age=loose["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["age"])),
                 doc(response=obj(age={"type": "integer", "minimum": 13}))) == []   # a response may promise more


def test_refs_into_components_are_followed_on_both_sides():
    schemas_old = {"Features": obj(["age"], age=INT), "Out": obj(["p", "model"], p=NUM, model=STR)}
    schemas_new = {"Features": obj(["age", "plan"], age=INT, plan=STR), "Out": obj(["p"], p=NUM)}
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    old = doc(request=obj(["features"], features=ref("Features")), response=ref("Out"), schemas=schemas_old)
    new = doc(request=obj(["features"], features=ref("Features")), response=ref("Out"), schemas=schemas_new)
    assert kinds(old, new) == [("request-field-added-required", "request body", "/features/plan"),
                               ("response-field-removed", "response 200", "/model")]
    inlined = doc(request=obj(["features"], features=schemas_old["Features"]), response=schemas_old["Out"])
    assert diff(old, inlined) == []                                  # a $ref and its target inline are the same contract


def test_nested_objects_arrays_and_optional_models():
    item = lambda **p: obj(["label"], **p)  # noqa: E731
    old = doc(response=obj(["items"], items={"type": "array", "items": item(label=STR, score=NUM)},
                           meta={"anyOf": [obj(["next"], next=STR), {"type": "null"}]}))
    new = doc(response=obj(["items"], items={"type": "array", "items": item(label=INT)},
                           meta={"anyOf": [obj([], next=STR), {"type": "null"}]}))
    assert kinds(old, new) == [("response-field-became-optional", "response 200", "/meta/next"),
                               ("response-field-removed", "response 200", "/items/*/score"),
                               ("type-changed", "response 200", "/items/*/label")]


def test_recursive_schemas_terminate():
    node = {"type": "object", "properties": {"name": STR, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
    old = doc(response={"$ref": "#/components/schemas/Node"}, schemas={"Node": node})
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Node"]["properties"]["name"] = INT
    assert kinds(old, new) == [("type-changed", "response 200", "/name")]


def test_parameters_new_required_breaks_new_optional_does_not():
    q = lambda name, required=False, schema=INT: {"name": name, "in": "query", "required": required, "schema": schema}  # noqa: E731
    old = doc(params=[q("limit")], method="get")
    assert kinds(old, doc(params=[q("limit"), q("tenant", True)], method="get")) == [
        ("parameter-added-required", "parameter tenant (query)", "")]
    assert kinds(old, doc(params=[q("limit"), q("model")], method="get")) == []
    assert kinds(old, doc(params=[q("limit", True)], method="get")) == [("parameter-became-required", "parameter limit (query)", "")]
    assert kinds(old, doc(params=[q("limit", schema={"type": "integer", "maximum": 100})], method="get")) == [
        ("constraint-narrowed", "parameter limit (query)", "")]
    assert kinds(old, doc(params=[], method="get")) == []


def test_per_version_lines_up_v1_and_v2_operations():
    both = {"paths": {"/v1/predict": {"post": {"responses": {}}}, "/v2/predict": {"post": {"responses": {}}},
                      "/usage": {"get": {"responses": {}}}}}
    assert list(per_version(both, "v1")["paths"]) == ["/predict"] == list(per_version(both, "v2")["paths"])
    rows = table(diff(doc(response=obj(["p"], p=NUM, q=NUM)), doc(response=obj(q=NUM, r=NUM))))
    assert [r["breaking"] for r in rows] == [True, False] and rows[0]["pointer"] == "/p"
