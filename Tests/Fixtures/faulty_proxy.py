"""A reverse proxy between two services that fails one call on purpose, for tests of calls that must
survive it.

usage: faulty_proxy.py PORT CONTROL_DIR

CONTROL_DIR holds `upstream` (the base URL calls are forwarded to) and, when present, `fault` (what to do
to the next call, which then clears it):
- `drop`: forward the call and wait for its answer, then close the caller's connection without a byte of
  it, as a network cut after the callee did the work would;
- `kill <data dir> <function>`: at the first call that arrives while a worker process of `function`
  (started by the runner using `data dir`) exists, SIGKILL those workers before forwarding it. Put in
  front of a service that `function` itself calls, and with `function` not yet started, this kills the
  worker in the middle of handling its own invocation.
"""
import os
import signal
import socket
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, control = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()


def take_fault():
    """The fault for this call, cleared once taken; a kill is taken only when its victims are there."""
    path = os.path.join(control, "fault")
    with lock:
        if not os.path.exists(path):
            return None
        fault = open(path).read().split()
        if fault[0] == "kill":
            victims = workers(fault[1], fault[2])
            if not victims:
                return None
            for pid in victims:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        os.remove(path)
        return fault


def workers(data_dir, function):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if f"_HANDLER={function}".encode() in environ and f"BLYTZ_DATA_DIR={data_dir}".encode() in environ:
            found.append(int(pid))
    return found


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        upstream = open(os.path.join(control, "upstream")).read().strip()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = take_fault()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        request = urllib.request.Request(upstream + self.path, data=body if body else None, method=self.command, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        status, answer = response.status if hasattr(response, "status") else response.code, response.read()
        if fault and fault[0] == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(status)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
