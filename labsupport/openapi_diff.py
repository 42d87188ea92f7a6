"""Which changes between two OpenAPI documents break a client that was written against the old one.

    changes = diff(old_doc, new_doc)            # every change found, each a Change(breaking=True/False)
    breaking_changes(old_doc, new_doc)          # only the breaking ones
    Change(path="/predict", method="post", location="request body", pointer="/features",
           kind="request-field-added-required", reason="...", breaking=True)
    per_version(doc, "v1")                      # the /v1/... operations of one document, as /...
    table(changes)                              # rows for a notebook table

The rule is direction. A client *writes* requests and *reads* responses, so a request may only get
more permissive and a response may only promise more: a new required request field, a removed
request enum value, a tightened bound, a removed or newly optional response field, a changed type
all break it. Enums in responses follow the strict-client rule: a client that switches over the
values it knows breaks on a new one, so an enum value ADDED to a response is breaking (removing one
is not); in a request it is the other way round. A removed request field breaks clients only when
the schema forbids unknown fields (additionalProperties: false); otherwise the server ignores it.
`pointer` is a JSON pointer into the body or parameter (`*` stands for any array item). `$ref`s to
components/schemas are resolved, allOf is merged, anyOf/oneOf of plain types and nullable count
as a union of types. Teams use oasdiff or Optic for this; the course ships this small checker
because Optic crashes under Node 20 here and oasdiff is Go only (book/08-api-design.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
NARROWER = {"minimum": max, "exclusiveMinimum": max, "minLength": max, "minItems": max,
            "maximum": min, "exclusiveMaximum": min, "maxLength": min, "maxItems": min}


@dataclass(frozen=True)
class Change:
    path: str
    method: str
    location: str      # "path", "request body", "parameter <name> (<in>)" or "response <status>"
    pointer: str       # JSON pointer of the field inside that body or parameter ("" = the whole thing)
    kind: str
    reason: str
    breaking: bool


def diff(old: dict, new: dict) -> list[Change]:
    """Every change between two OpenAPI documents, breaking or not, in document order."""
    out: list[Change] = []
    old_paths, new_paths = old.get("paths", {}), new.get("paths", {})
    for path, old_item in old_paths.items():
        if path not in new_paths:
            out.append(Change(path, "*", "path", "", "path-removed", "the path is gone: every call to it fails", True))
            continue
        for method in (m for m in METHODS if m in old_item):
            if method not in new_paths[path]:
                out.append(Change(path, method, "path", "", "method-removed",
                                  f"{method.upper()} is gone from this path", True))
                continue
            out += _operation(path, method, old_item[method], new_paths[path][method], old, new)
        for method in (m for m in METHODS if m in new_paths[path] and m not in old_item):
            out.append(Change(path, method, "path", "", "method-added", "a new operation; old clients never call it", False))
    for path in (p for p in new_paths if p not in old_paths):
        out.append(Change(path, "*", "path", "", "path-added", "a new path; old clients never call it", False))
    return out


def breaking_changes(old: dict, new: dict) -> list[Change]:
    """The changes that break a client written against `old` (see the module docstring for the rule)."""
    return [c for c in diff(old, new) if c.breaking]


def per_version(doc: dict, version: str) -> dict:
    """The operations under /<version>/ as a document of their own, paths without the prefix."""
    prefix = f"/{version}"
    paths = {p[len(prefix):] or "/": item for p, item in doc.get("paths", {}).items()
             if p == prefix or p.startswith(prefix + "/")}
    return {**doc, "paths": paths}


def table(changes: list[Change]) -> list[dict]:
    """Rows (dicts) for a notebook table, breaking ones first."""
    return [asdict(c) for c in sorted(changes, key=lambda c: not c.breaking)]


# -- one operation ---------------------------------------------------------------------------------

class _Ctx:
    def __init__(self, path, method, old_doc, new_doc, out):
        self.path, self.method, self.old_doc, self.new_doc, self.out = path, method, old_doc, new_doc, out

    def add(self, location, pointer, kind, reason, breaking):
        self.out.append(Change(self.path, self.method, location, pointer, kind, reason, breaking))


def _operation(path, method, old_op, new_op, old_doc, new_doc) -> list[Change]:
    out: list[Change] = []
    ctx = _Ctx(path, method, old_doc, new_doc, out)
    _parameters(ctx, old_op.get("parameters", []), new_op.get("parameters", []))
    old_body, new_body = old_op.get("requestBody"), new_op.get("requestBody")
    if new_body and new_body.get("required") and not (old_body and old_body.get("required")):
        ctx.add("request body", "", "request-body-became-required", "a body is now required; clients that sent none fail", True)
    if old_body and new_body:
        _schema(ctx, "request body", "", _body_schema(old_body), _body_schema(new_body), request=True)
    old_resp, new_resp = old_op.get("responses", {}), new_op.get("responses", {})
    for status, old_r in old_resp.items():
        if status not in new_resp:
            if str(status).startswith("2"):
                ctx.add(f"response {status}", "", "response-removed", f"the {status} answer clients handle is no longer promised", True)
            continue
        _schema(ctx, f"response {status}", "", _body_schema(old_r), _body_schema(new_resp[status]), request=False)
    return out


def _body_schema(body: dict) -> dict | None:
    content = body.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    return None if media is None else media.get("schema", {})


def _parameters(ctx, old_params, new_params):
    key = lambda p: (p.get("name"), p.get("in"))  # noqa: E731
    old_by, new_by = {key(p): p for p in old_params}, {key(p): p for p in new_params}
    for k, p in new_by.items():
        where = f"parameter {k[0]} ({k[1]})"
        if k not in old_by:
            if p.get("required"):
                ctx.add(where, "", "parameter-added-required", "a new required parameter old clients do not send", True)
            else:
                ctx.add(where, "", "parameter-added-optional", "a new optional parameter; old clients omit it", False)
            continue
        if p.get("required") and not old_by[k].get("required"):
            ctx.add(where, "", "parameter-became-required", "an optional parameter is now required", True)
        _schema(ctx, where, "", old_by[k].get("schema", {}), p.get("schema", {}), request=True)
    for k in old_by:
        if k not in new_by:
            ctx.add(f"parameter {k[0]} ({k[1]})", "", "parameter-removed",
                    "the server no longer reads it (unknown parameters are ignored)", False)


# -- schemas ---------------------------------------------------------------------------------------

def _resolve(schema, doc, seen=()):
    """Follow $ref into the document and merge allOf; returns (schema, refs followed)."""
    schema = schema or {}
    while "$ref" in schema:
        ref = schema["$ref"]
        if ref in seen:                       # a recursive schema: compare it once
            return {}, seen
        seen = (*seen, ref)
        node = doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    if "allOf" in schema:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part, seen = _resolve(part, doc, seen)
            merged.setdefault("properties", {}).update(part.get("properties", {}))
            merged["required"] = sorted({*merged.get("required", []), *part.get("required", [])})
            for k, v in part.items():
                merged.setdefault(k, v)
        schema = merged
    return schema, seen


def _types(schema, doc) -> set[str]:
    """The set of JSON types a schema admits; empty = anything (no type stated)."""
    schema, _ = _resolve(schema, doc)
    if "anyOf" in schema or "oneOf" in schema:
        parts = [_types(s, doc) for s in schema.get("anyOf", schema.get("oneOf"))]
        return set() if any(not p for p in parts) else set().union(*parts)
    t = schema.get("type")
    types = set(t) if isinstance(t, list) else ({t} if t else set())
    if not types and "properties" in schema:
        types = {"object"}
    if types and schema.get("nullable"):
        types.add("null")
    return types


def _covers(wide: set[str], narrow: set[str]) -> bool:
    """Every value of the `narrow` types is a value of the `wide` types (integer is a number)."""
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _branch(schema, doc, wanted):
    """The member of an anyOf/oneOf that is of type `wanted` (to recurse into Optional[Model])."""
    schema, seen = _resolve(schema, doc)
    for part in schema.get("anyOf", schema.get("oneOf", [])):
        if wanted in _types(part, doc):
            return _resolve(part, doc, seen)[0]
    return schema


def _schema(ctx, location, pointer, old, new, *, request, seen=()):
    if old is None or new is None:
        return
    refs = (old.get("$ref"), new.get("$ref"))
    if refs != (None, None):
        if refs in seen:                      # a recursive schema, met again on this path: compared once
            return
        seen = (*seen, refs)
    old_s, _ = _resolve(old, ctx.old_doc)
    new_s, _ = _resolve(new, ctx.new_doc)
    old_t, new_t = _types(old_s, ctx.old_doc), _types(new_s, ctx.new_doc)
    if old_t and new_t and old_t != new_t:
        ok = _covers(new_t, old_t) if request else _covers(old_t, new_t)
        fmt = lambda ts: "|".join(sorted(ts))  # noqa: E731
        if ok:
            ctx.add(location, pointer, "type-widened" if request else "type-narrowed",
                    f"type {fmt(old_t)} -> {fmt(new_t)}: every old value is still fine", False)
        else:
            ctx.add(location, pointer, "type-changed",
                    f"type {fmt(old_t)} -> {fmt(new_t)}: " + ("values old clients send are refused" if request
                                                                 else "clients get values they cannot parse"), True)
            return
    _enum(ctx, location, pointer, old_s, new_s, request)
    if request:
        _bounds(ctx, location, pointer, old_s, new_s)
    if "object" in old_t | new_t or "properties" in old_s or "properties" in new_s:
        _object(ctx, location, pointer, _branch(old_s, ctx.old_doc, "object"),
                _branch(new_s, ctx.new_doc, "object"), request, seen)
    if "array" in old_t and "array" in new_t:
        o, n = _branch(old_s, ctx.old_doc, "array"), _branch(new_s, ctx.new_doc, "array")
        _schema(ctx, location, pointer + "/*", o.get("items", {}), n.get("items", {}), request=request, seen=seen)


def _enum(ctx, location, pointer, old_s, new_s, request):
    old_e, new_e = old_s.get("enum"), new_s.get("enum")
    if old_e is None and new_e is None:
        return
    if old_e is not None and new_e is None:                  # the enum was lifted: any value now
        ctx.add(location, pointer, "enum-removed", "any value is now allowed" +
                ("" if request else ": strict clients get values they do not know"), not request)
        return
    if old_e is None:                                         # an enum was imposed
        ctx.add(location, pointer, "enum-added", f"only {new_e} allowed now" +
                (": other values old clients send are refused" if request else ""), request)
        return
    removed = [v for v in old_e if v not in new_e]
    added = [v for v in new_e if v not in old_e]
    if removed:
        ctx.add(location, pointer, "enum-value-removed", f"{removed} no longer " +
                ("accepted: old clients that send it fail" if request else "sent (clients may keep handling it)"), request)
    if added:
        ctx.add(location, pointer, "enum-value-added", f"{added} is new: " +
                ("old clients simply never send it" if request else "strict clients do not know it"), not request)


def _bounds(ctx, location, pointer, old_s, new_s):
    for name, tighter in NARROWER.items():
        o, n = old_s.get(name), new_s.get(name)
        if n is None or (o is not None and (o == n or tighter(o, n) == o)):
            continue
        ctx.add(location, pointer, "constraint-narrowed", f"{name} {o} -> {n}: values old clients send may be refused", True)
    if new_s.get("pattern") and new_s.get("pattern") != old_s.get("pattern"):
        ctx.add(location, pointer, "constraint-narrowed",
                f"pattern {old_s.get('pattern')!r} -> {new_s['pattern']!r}: values old clients send may be refused", True)


def _object(ctx, location, pointer, old_s, new_s, request, seen):
    old_p, new_p = old_s.get("properties", {}), new_s.get("properties", {})
    old_r, new_r = set(old_s.get("required", [])), set(new_s.get("required", []))
    for name, sub in new_p.items():
        ptr = f"{pointer}/{name}"
        if name not in old_p:
            if not request:
                ctx.add(location, ptr, "response-field-added", "a new field; clients ignore what they do not know", False)
            elif name in new_r:
                ctx.add(location, ptr, "request-field-added-required", "a new required field old clients do not send", True)
            else:
                ctx.add(location, ptr, "request-field-added-optional", "a new optional field; old clients omit it", False)
            continue
        if request and name in new_r and name not in old_r:
            ctx.add(location, ptr, "request-field-became-required", "an optional field is now required", True)
        if not request and name in old_r and name not in new_r:
            ctx.add(location, ptr, "response-field-became-optional", "clients that rely on it may not get it", True)
        _schema(ctx, location, ptr, old_p[name], sub, request=request, seen=seen)
    for name in old_p:
        if name in new_p:
            continue
        ptr = f"{pointer}/{name}"
        if not request:
            ctx.add(location, ptr, "response-field-removed", "clients that read it break", True)
        elif new_s.get("additionalProperties") is False:
            ctx.add(location, ptr, "request-field-removed", "unknown fields are refused, and old clients still send it", True)
        else:
            ctx.add(location, ptr, "request-field-removed", "old clients still send it; the server ignores unknown fields", False)
