#!/usr/bin/env python3
"""t/openapi-check.py - check a running agent against src/openapi.json.

usage: openapi-check.py DOC URL SOURCE.c... [--allow-missing PATH ...]
                        [--train-pod NAMESPACE/NAME]

Prints TAP.  Three directions:
  - every route the agent's sources register (http_router_add calls and
    route tables in the SOURCE.c files given) is described in the document;
  - every operation of the document is requested, with good and bad
    parameters, and each answer's status must be one the document lists;
  - each answer's body must validate against the document's schema for
    that status and content type (a small JSON Schema validator for the
    OpenAPI 3.0 subset the document uses: type, nullable, enum, required,
    properties, items, min/max, min/maxItems, min/maxLength,
    min/maxProperties, $ref).
A route the agent answers with 404 "no such path" fails unless listed with
--allow-missing (for routes a build may not serve yet).

A router pattern ending in "*" (a prefix route) is described by a document
path of that prefix and one template segment ("/api/v1/profiles/*" by
"/api/v1/profiles/{name}"); a templated path is requested only as the
concrete paths its cases give.  --train-pod names a pod whose profile
training may run for a second (POST /api/v1/profiles/train answers 200);
without it only the refusals are requested.
"""
import json
import re
import sys
import urllib.error
import urllib.request

count = 0
failed = 0


def ok(cond, desc, diag=None):
    global count, failed
    count += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (count, desc))
    if not cond:
        failed += 1
        if diag:
            for line in str(diag).splitlines()[:20]:
                print("# " + line)
    return cond


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/")
        target = doc
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def validate(doc, schema, value, where="$"):
    """A list of errors, empty when value matches schema."""
    schema = resolve(doc, schema)
    errors = []
    if value is None:
        if schema.get("nullable"):
            return []
        if "type" in schema:
            return ["%s: null where %s is expected" % (where, schema["type"])]
        return []
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or
        (isinstance(v, float) and v.is_integer()),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    }
    if kind is not None and not checks[kind](value):
        return ["%s: %r is not of type %s" % (where, value if len(repr(value)) < 80 else
                                               type(value).__name__, kind)]
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r is not one of %s" % (where, value, schema["enum"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append("%s: %r < minimum %r" % (where, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append("%s: %r > maximum %r" % (where, value, schema["maximum"]))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append("%s: longer than %d" % (where, schema["maxLength"]))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append("%s: more than %d items" % (where, schema["maxItems"]))
        if "items" in schema:
            for i, item in enumerate(value):
                errors += validate(doc, schema["items"], item, "%s[%d]" % (where, i))
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                errors.append("%s: lacks required %s" % (where, name))
        if len(value) < schema.get("minProperties", 0):
            errors.append("%s: fewer than %d properties" % (where, schema["minProperties"]))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            errors.append("%s: more than %d properties" % (where, schema["maxProperties"]))
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errors += validate(doc, sub, value[name], "%s.%s" % (where, name))
    return errors


def request(base, method, path, body=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def described(paths, method, route):
    """Whether the document describes the router's METHOD route."""
    if route.endswith("*"):
        prefix = route[:-1]
        candidates = [p for p in paths
                      if p.startswith(prefix) and re.fullmatch(r"\{[^/{}]+\}", p[len(prefix):])]
    else:
        candidates = [route]
    return any(p in paths and method.lower() in paths[p] for p in candidates)


def registered_routes(sources):
    """(METHOD, PATH) of every route the C sources register."""
    routes = set()
    for path in sources:
        text = open(path, encoding="utf-8", errors="replace").read()
        for m in re.finditer(r'http_router_add\(\s*\w+\s*,\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"', text):
            routes.add((m.group(1), m.group(2)))
        for m in re.finditer(r'\{\s*"(GET|POST|PUT|DELETE|PATCH)"\s*,\s*"(/[^"]*)"', text):
            routes.add((m.group(1), m.group(2)))
    return routes


def main():
    args = sys.argv[1:]
    allow_missing = set()
    train_pod = None
    while "--allow-missing" in args:
        i = args.index("--allow-missing")
        allow_missing.add(args[i + 1])
        del args[i:i + 2]
    if "--train-pod" in args:
        i = args.index("--train-pod")
        train_pod = args[i + 1]
        del args[i:i + 2]
    doc_path, base, sources = args[0], args[1], args[2:]
    doc = json.load(open(doc_path))
    paths = doc["paths"]

    ok(doc.get("openapi", "").startswith("3."), "the document is OpenAPI 3")
    for method, path in sorted(registered_routes(sources)):
        ok(described(paths, method, path),
           "%s %s, registered in the sources, is in the document" % (method, path))

    # What to ask of each operation: (query or body, expected status set);
    # for a templated path, (a concrete path and query, expected status set).
    generations = []
    status, _, body = request(base, "GET", "/api/v1/config/generations")
    if status == 200:
        generations = [g["generation"] for g in json.loads(body)]
    last = generations[-1] if generations else 1
    first = generations[0] if generations else 1
    cases = {
        ("get", "/api/v1/config"): [("", {200}), ("?generation=%d" % last, {200}),
                                    ("?generation=x", {400}), ("?generation=999999999", {404})],
        ("get", "/api/v1/config/diff"): [("?from=%d&to=%d" % (first, last), {200}),
                                         ("?from=x", {400}), ("?from=1&to=999999999", {404})],
        ("post", "/api/v1/safe-mode"): [('{"enabled":false}', {200}), ("nonsense", {400})],
        ("post", "/api/v1/trace"): [("", None), ("?seconds=0", {400, 503})],
        ("get", "/readyz"): [("", None)],
        ("get", "/api/v1/profiles/{name}"): [("/api/v1/profiles/mysql", {200}),
                                             ("/api/v1/profiles/nosuch", {404})],
        ("post", "/api/v1/profiles/train"): [("", {400}), ("?pod=default", {400}),
                                            ("?pod=default/x&seconds=0", {400}),
                                            ("?pod=default/x&seconds=301", {400}),
                                            ("?pod=default/x&name=No_Such", {400}),
                                            ("?pod=default/nosuch-pod-xyz", {404})],
    }
    if train_pod is not None:
        cases[("post", "/api/v1/profiles/train")].append(
            ("?pod=%s&seconds=1&name=openapi-check" % train_pod, {200}))
    for path, item in sorted(paths.items()):
        for method, operation in sorted(item.items()):
            documented = {int(code) for code in operation["responses"]}
            templated = "{" in path
            if templated:
                ok((method, path) in cases,
                   "%s %s: the checker has concrete paths for the template" %
                   (method.upper(), path))
            for extra, expected in cases.get((method, path), [] if templated else [("", {200})]):
                target = extra if templated else path + extra
                if method == "post" and extra.startswith("{") or extra == "nonsense":
                    status, content_type, body = request(base, "POST", path, extra)
                else:
                    status, content_type, body = request(base, method.upper(), target,
                                                         b"" if method == "post" else None)
                label = "%s %s" % (method.upper(), target
                                   if not extra.startswith("{") and extra != "nonsense"
                                   else path + " " + extra)
                text = body.decode("utf-8", "replace")
                if status == 404 and text.startswith('{"error":"no such path'):
                    if path in allow_missing:
                        ok(True, "%s: not served by this build (allowed) # SKIP" % label)
                    else:
                        ok(False, "%s: the agent does not serve a documented route" % label)
                    break
                ok(status in documented, "%s: %d is a documented status" % (label, status),
                   "documented: %s" % sorted(documented))
                if expected is not None:
                    ok(status in expected, "%s: answered %d as expected" % (label, status),
                       "expected one of %s; body: %s" % (sorted(expected), text[:300]))
                response = resolve(doc, operation["responses"].get(str(status), {}))
                content = response.get("content", {})
                media = content_type.split(";")[0].strip()
                ok(not content or media in content,
                   "%s: content type %s is documented" % (label, media or "(none)"),
                   "documented: %s" % list(content))
                if media in content and media.endswith("json"):
                    try:
                        value = json.loads(body)
                    except ValueError as error:
                        ok(False, "%s: the body is JSON" % label, error)
                        continue
                    errors = validate(doc, content[media]["schema"], value)
                    ok(not errors, "%s: the body matches the schema" % label, "\n".join(errors))
    print("1..%d" % count)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
