"""A small OpenID Connect provider for gateway/tests/run_jwt_tls.rs: a
discovery document (GET /.well-known/openid-configuration), its key set
(GET /keys: one RSA key made at start, kid `k1`) and a token endpoint
(POST /token, client-credentials grant) that signs RS256 access tokens for
AUDIENCE, valid for an hour from now.

Usage: oidc_server.py CLIENT_ID CLIENT_SECRET AUDIENCE. It listens on a free
loopback port and prints it on its first line. GET /stats answers how often
each document was asked for. Needs the `cryptography` package
(scripts/python-deps installs it).
"""

import base64
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CLIENT_ID, CLIENT_SECRET, AUDIENCE = sys.argv[1], sys.argv[2], sys.argv[3]
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LOCK = threading.Lock()
STATS = {"discovery": 0, "keys": 0, "tokens": 0}


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def int_b64(n):
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def sign(claims):
    header = {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = KEY.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def issuer(self):
        return "http://127.0.0.1:%d/" % self.server.server_address[1]

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def count(self, what):
        with LOCK:
            STATS[what] += 1

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        if path == "/.well-known/openid-configuration":
            self.count("discovery")
            base = self.issuer()
            return self.answer(200, {
                "issuer": base,
                "jwks_uri": base + "keys",
                "token_endpoint": base + "token",
                "id_token_signing_alg_values_supported": ["RS256"],
            })
        if path == "/keys":
            self.count("keys")
            n = KEY.public_key().public_numbers()
            jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
                   "n": int_b64(n.n), "e": int_b64(n.e)}
            return self.answer(200, {"keys": [jwk]})
        if path == "/stats":
            with LOCK:
                return self.answer(200, dict(STATS))
        self.answer(404, {"error": "not_found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if urllib.parse.urlparse(self.path).path != "/token":
            return self.answer(404, {"error": "not_found"})
        if form.get("grant_type") != "client_credentials":
            return self.answer(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self.answer(401, {"error": "invalid_client"})
        self.count("tokens")
        now = int(time.time())
        token = sign({"iss": self.issuer(), "aud": AUDIENCE, "sub": CLIENT_ID, "azp": CLIENT_ID,
                      "iat": now, "nbf": now, "exp": now + 3600})
        self.answer(200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
