"""A stand-in for the monolith during a switch-over: answers every request with what it received.

    python -m stand_in_monolith --port PORT

The answer is JSON {servedBy, method, path, headers, body, requests}: the path as sent (with its query),
the headers lower-cased, the body as text. `/api/jobs/teapot` answers 418, `/api/jobs/moved` a 302 to
`/api/jobs/elsewhere`, a POST 201; every answer carries `X-Served-By: monolith` and a cookie.
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests = 0

    def answer(self):
        Handler.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status = 201 if self.command == "POST" else 200
        if self.path.startswith("/api/jobs/teapot"):
            status = 418
        payload = json.dumps({
            "servedBy": "monolith", "method": self.command, "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": body.decode("utf-8", "replace"), "requests": Handler.requests,
        }).encode()
        if self.path.startswith("/api/jobs/moved"):
            status = 302
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/api/jobs/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Served-By", "monolith")
        self.send_header("Set-Cookie", "session=legacy; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = answer

    def log_message(self, *arguments):
        pass


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    ThreadingHTTPServer(("127.0.0.1", parser.parse_args().port), Handler).serve_forever()
