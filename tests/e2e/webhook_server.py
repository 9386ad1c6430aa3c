"""An admission webhook server for the tests: HTTPS on loopback with a certificate of a CA it makes
with openssl, answering AdmissionReviews as a real webhook does, and keeping what it was sent.

Paths: /deny refuses objects labelled deny=yes (with a message and a warning), /label adds the label
mutated-by=webhook through a JSON patch, /slow answers after 10 seconds, /allow allows."""
import base64
import json
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DENY_MESSAGE = "objects labelled deny=yes are refused by the test webhook"
WARNING = "the test webhook saw this object"


def make_certificates(directory):
    """A CA and a serving certificate for 127.0.0.1 signed by it; returns (ca.pem bytes, cert path, key path)."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
            "-subj", "/CN=webhook-test-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
            "-days", "1", "-extfile", "san.ext")
    return (directory / "ca.pem").read_bytes(), directory / "server.pem", directory / "server.key"


class WebhookServer:
    def __init__(self, directory):
        self.ca, cert, key = make_certificates(directory)
        self.reviews = []  # (path, request) in arrival order
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                request = review["request"]
                path = self.path.split("?")[0]
                server.reviews.append((self.path, request))
                response = {"uid": request["uid"], "allowed": True}
                obj = request.get("object") or {}
                labels = (obj.get("metadata") or {}).get("labels") or {}
                if path == "/deny":
                    response["warnings"] = [WARNING]
                    if labels.get("deny") == "yes":
                        response.update(allowed=False, status={"code": 403, "reason": "Forbidden", "message": DENY_MESSAGE})
                elif path == "/label":
                    patch = ([{"op": "add", "path": "/metadata/labels", "value": {}}] if "labels" not in obj.get("metadata", {}) else [])
                    patch.append({"op": "add", "path": "/metadata/labels/mutated-by", "value": "webhook"})
                    response.update(patchType="JSONPatch", patch=base64.b64encode(json.dumps(patch).encode()).decode())
                elif path == "/slow":
                    time.sleep(10)
                body = json.dumps({"apiVersion": review["apiVersion"], "kind": "AdmissionReview", "response": response}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the API server gave up (the slow path)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"https://127.0.0.1:{self.port}{path}"

    @property
    def ca_bundle(self):
        return base64.b64encode(self.ca).decode()

    def paths(self):
        return [p.split("?")[0] for p, _ in self.reviews]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
