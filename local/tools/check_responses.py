#!/usr/bin/env python3
"""Validates every 2xx body the tests recorded (BLYTZ_RESPONSE_LOG) against the OpenAPI document.

usage: check_responses.py OPENAPI_JSON RESPONSE_LOG

Each recorded response is matched to its operation by method and path template (literal segments win
over parameters, as the router does); its body must validate against the operation's 2XX schema for its
content type. A recorded 2xx that matches no operation is an error too: the document would be missing a
route the tests use. Prints how many operations were covered. A log with no responses in it fails: the
tests that should have filled it did not record.
"""
import json
import re
import sys

from jsonschema import Draft202012Validator


def templates(document):
    for path, operations in document["paths"].items():
        segments = path.strip("/").split("/") if path != "/" else []
        for method, operation in operations.items():
            yield method.upper(), segments, operation


def match(operations, method, path):
    parts = path.split("?", 1)[0].strip("/").split("/")
    best = None
    for candidate_method, segments, operation in operations:
        if candidate_method != method or len(segments) != len(parts):
            if not (segments and segments[-1].startswith("{") and candidate_method == method and len(parts) >= len(segments)):
                continue
        rank, ok = [], True
        for index, segment in enumerate(segments):
            if index >= len(parts):
                ok = False
                break
            if segment.startswith("{"):
                rank.append(0)
            elif segment == parts[index]:
                rank.append(1)
            else:
                ok = False
                break
        if ok and len(segments) != len(parts) and not (operation.get("x-greedy") or segments[-1].startswith("{")):
            ok = False
        if ok and (best is None or rank > best[0]):
            best = (rank, operation)
    return best[1] if best else None


def main():
    document = json.load(open(sys.argv[1]))
    operations = list(templates(document))
    failures, covered, seen = [], set(), 0
    with open(sys.argv[2]) as log:
        for number, text in enumerate(log, 1):
            record = json.loads(text)
            seen += 1
            operation = match(operations, record["method"], record["path"])
            if operation is None:
                failures.append(f"line {number}: {record['method']} {record['path']} answered {record['status']} but is in no operation of the document")
                continue
            covered.add(operation["operationId"])
            content = operation["responses"].get("2XX", {}).get("content")
            body = record["body"]
            if not content:
                if body:
                    failures.append(f"line {number}: {operation['operationId']} declares no body but answered {body[:200]}")
                continue
            media = (record.get("contentType") or "").split(";")[0].strip()
            if media not in content:
                failures.append(f"line {number}: {operation['operationId']} answered {media!r}, the document declares {sorted(content)}")
                continue
            if not media.endswith("json"):
                continue
            schema = dict(content[media]["schema"])
            schema["components"] = document["components"]
            errors = sorted(Draft202012Validator(schema).iter_errors(json.loads(body)), key=lambda e: list(e.absolute_path))
            for error in errors[:3]:
                where = "/".join(str(part) for part in error.absolute_path) or "(body)"
                failures.append(f"line {number}: {operation['operationId']} {record['method']} {record['path']}: {where}: {error.message}")
    total = len(operations)
    print(f"{seen} recorded 2xx responses; {len(covered)} of {total} operations covered")
    if seen == 0:
        failures.append(f"{sys.argv[2]} holds no responses: the tests recorded nothing to check")
    for failure in failures:
        print("INVALID", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
