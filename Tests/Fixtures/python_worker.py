#!/usr/bin/env python3
"""A worker in another language: the AWS Lambda Runtime API loop with nothing but the standard library.

It answers every HTTP event with its version (read from version.txt beside it at start) and the path,
after sleeping `?ms=` milliseconds."""
import http.client
import json
import os
import time

here = os.path.dirname(os.path.abspath(__file__))
version_file = os.environ.get("FIXTURE_VERSION_FILE", os.path.join(here, "version.txt"))
try:
    with open(version_file) as f:
        version = f.read().strip()
except OSError:
    version = "none"

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
connection = http.client.HTTPConnection(host, int(port))
base = "/2018-06-01/runtime/invocation"

while True:
    try:
        connection.request("GET", base + "/next")
        response = connection.getresponse()
        event = json.loads(response.read())
    except (OSError, http.client.HTTPException, ValueError):
        break
    request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
    query = event.get("queryStringParameters") or {}
    time.sleep(int(query.get("ms", "0")) / 1000)
    body = json.dumps({"language": "python", "version": version, "path": event.get("rawPath"), "pid": os.getpid()})
    result = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
    connection.request("POST", base + "/" + request_id + "/response", body=json.dumps(result))
    connection.getresponse().read()
