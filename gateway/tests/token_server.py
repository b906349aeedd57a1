"""A small identity provider for gateway/tests/run_identity.rs: an Entra-like
token endpoint (client-credentials grant, POST /{tenant}/oauth2/v2.0/token)
and an IMDS-like one (GET /metadata/identity/oauth2/token, `Metadata: true`).

Usage: token_server.py CLIENT_ID CLIENT_SECRET. It listens on a free loopback
port and prints it on its first line. Tokens are `token-N` (N counts the
tokens issued); GET /stats answers what it was asked. A scope or resource
that starts with `https://refused` is refused (400 invalid_scope).
"""

import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID, CLIENT_SECRET = sys.argv[1], sys.argv[2]
LOCK = threading.Lock()
STATS = {"issued": 0, "requests": 0, "scopes": []}


def issue():
    with LOCK:
        STATS["issued"] += 1
        return "token-%d" % STATS["issued"]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        with LOCK:
            STATS["requests"] += 1
            STATS["scopes"].append(form.get("scope", ""))
        if not self.path.endswith("/oauth2/v2.0/token"):
            return self.answer(404, {"error": "not_found"})
        if form.get("grant_type") != "client_credentials":
            return self.answer(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self.answer(401, {"error": "invalid_client"})
        if form.get("scope", "").startswith("https://refused"):
            return self.answer(400, {"error": "invalid_scope"})
        self.answer(200, {"token_type": "Bearer", "expires_in": 3600, "access_token": issue()})

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/stats":
            with LOCK:
                return self.answer(200, dict(STATS))
        if url.path == "/metadata/identity/oauth2/token":
            if self.headers.get("Metadata") != "true":
                return self.answer(400, {"error": "invalid_request"})
            with LOCK:
                STATS["requests"] += 1
            return self.answer(200, {"access_token": issue(), "expires_in": "3600", "token_type": "Bearer"})
        self.answer(404, {"error": "not_found"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
