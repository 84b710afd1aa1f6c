"""Schemathesis checks of our own, loaded with SCHEMATHESIS_HOOKS=schemathesis_hooks."""
import json

import schemathesis


@schemathesis.check
def problem_json(ctx, response, case):
    """Every error answers an RFC 9457 problem document whose status is the response's."""
    if response.status_code < 400:
        return None
    media = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    if media != "application/problem+json":
        raise AssertionError(f"{response.status_code} answered {media or 'no content type'}, not application/problem+json")
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} answered a problem+json body that is not JSON: {response.content[:200]!r}")
    if not isinstance(body, dict) or body.get("status") != response.status_code or not body.get("title"):
        raise AssertionError(f"{response.status_code} answered something that is not a problem document: {response.content[:200]!r}")
    return None
