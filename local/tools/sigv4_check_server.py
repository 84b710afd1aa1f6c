"""An HTTP server that checks each request's SigV4 signature the way AWS does, with botocore (AWS's own SDK):
it signs the same request again with the test credentials and the request's own x-amz-date, and answers
403 when the signatures differ. It stands in for API Gateway's management API:

    POST|DELETE /<stage>/@connections/<id>  → 200, or 410 when the id starts with "gone"
    GET /_pushes                            → every accepted request, as JSON lines

    sigv4_check_server.py PORT SERVICE REGION
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PORT, SERVICE, REGION = int(sys.argv[1]), sys.argv[2], sys.argv[3]
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
accepted = []


class Handler(BaseHTTPRequestHandler):
    def expected(self, body):
        """The Authorization botocore computes for this request at its own x-amz-date."""
        stamp = self.headers.get("x-amz-date", "")
        request = AWSRequest(method=self.command, url=f"http://{self.headers['host']}{self.path}", data=body,
                             headers={"host": self.headers["host"], "x-amz-date": stamp})
        request.context["timestamp"] = stamp
        signer = SigV4Auth(CREDENTIALS, SERVICE, REGION)
        canonical = signer.canonical_request(request)
        signature = signer.signature(signer.string_to_sign(request, canonical), request)
        headers = signer.signed_headers(signer.headers_to_sign(request))
        return f"AWS4-HMAC-SHA256 Credential={CREDENTIALS.access_key}/{signer.credential_scope(request)}, SignedHeaders={headers}, Signature={signature}"

    def answer(self, status, text=""):
        data = text.encode()
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_push(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0") or 0))
        if self.path == "/_pushes":
            return self.answer(200, "\n".join(json.dumps(item) for item in accepted))
        if self.headers.get("authorization") != self.expected(body):
            return self.answer(403, '{"message":"The request signature we calculated does not match the signature you provided."}')
        connection = unquote(self.path).split("/@connections/")[-1]
        if connection.startswith("gone"):
            return self.answer(410, '{"message":"GoneException"}')
        accepted.append({"method": self.command, "path": unquote(self.path), "connection": connection, "body": body.decode()})
        self.answer(200)

    do_POST = handle_push
    do_DELETE = handle_push
    do_GET = handle_push

    def log_message(self, *arguments):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
