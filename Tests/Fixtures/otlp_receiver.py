"""An OTLP/HTTP trace receiver for the tests: decodes each export with the OpenTelemetry protocol's own
messages (opentelemetry-proto) and keeps the spans.

    python -m otlp_receiver --port PORT [--discard]

`POST /v1/traces` takes an ExportTraceServiceRequest (protobuf, optionally gzip, or its JSON form); `GET /spans` answers
every span so far as JSON [{traceId, spanId, parentSpanId, name, kind, service, links: [{traceId, spanId}],
attributes}], ids in hex; `DELETE /spans` forgets them; `GET /count` answers how many exports and bytes
arrived. With `--discard` the exports are read and answered but not decoded, as a collector on another
machine would cost the sender nothing more (for benchmarks on a small machine).
"""
import argparse
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import Span

lock = threading.Lock()
spans = []
exports = 0
received_bytes = 0
discard = False


def value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def received(request):
    for resource_spans in request.resource_spans:
        resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "traceId": span.trace_id.hex(), "spanId": span.span_id.hex(), "parentSpanId": span.parent_span_id.hex(),
                    "name": span.name, "kind": Span.SpanKind.Name(span.kind), "service": resource.get("service.name"),
                    "links": [{"traceId": link.trace_id.hex(), "spanId": link.span_id.hex()} for link in span.links],
                    "attributes": {a.key: str(value(a.value)) for a in span.attributes},
                    "start": span.start_time_unix_nano, "end": span.end_time_unix_nano,
                }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global exports, received_bytes
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path != "/v1/traces":
            return self.reply(404, b"{}")
        with lock:
            exports += 1
            received_bytes += len(body)
        if not discard:
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                # OTLP/HTTP's JSON form (ids in base64, as protobuf's JSON mapping writes them).
                json_format.Parse(body, request, ignore_unknown_fields=True)
            else:
                request.ParseFromString(body)
            with lock:
                spans.extend(received(request))
        self.reply(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

    def do_GET(self):
        with lock:
            payload = spans if self.path == "/spans" else {"exports": exports, "bytes": received_bytes, "spans": len(spans)}
            self.reply(200, json.dumps(payload).encode())

    def do_DELETE(self):
        with lock:
            spans.clear()
        self.reply(200, b"{}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--discard", action="store_true")
    arguments = parser.parse_args()
    discard = arguments.discard
    ThreadingHTTPServer(("127.0.0.1", arguments.port), Handler).serve_forever()
