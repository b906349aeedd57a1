#!/usr/bin/env python3
"""Generates the test keys, key sets and tokens of the validate-jwt and
validate-azure-ad-token conformance cases. Run ONCE; the outputs are kept
in this folder (the cases paste the tokens). Running it again makes new
keys and tokens, and every case would have to be updated.

Times are fixed relative to the conformance runner's virtual clock, which
starts at 2025-01-01T00:00:00Z (EPOCH below): a token is issued a minute
before it and expires an hour after it, so the cases pass forever.

Needs Python 3 with the `cryptography` package.
"""

import base64
import hashlib
import hmac
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

EPOCH = 1735689600  # 2025-01-01T00:00:00Z, the runner's clock at step 1
HERE = os.path.dirname(os.path.abspath(__file__))
ISSUER = "https://issuer.test/"
AUDIENCE = "api://sluice-test"
TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_APP = "aaaaaaaa-0000-0000-0000-000000000001"
OTHER_APP = "bbbbbbbb-0000-0000-0000-000000000002"
BACKEND_APP = "cccccccc-0000-0000-0000-000000000003"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def int_b64(n):
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def write(name, text):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)


def private_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def sign(alg, key, signing_input):
    if alg.startswith("HS"):
        h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        return hmac.new(key, signing_input, h).digest()
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    if alg.startswith("RS"):
        return key.sign(signing_input, padding.PKCS1v15(), digest)
    if alg.startswith("PS"):
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        return key.sign(signing_input, pss, digest)
    if alg.startswith("ES"):
        der = key.sign(signing_input, ec.ECDSA(digest))
        r, s = utils.decode_dss_signature(der)
        size = {"256": 32, "384": 48}[alg[2:]]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(alg)


def token(alg, key, claims, kid=None, typ="JWT"):
    header = {"alg": alg, "typ": typ}
    if kid:
        header["kid"] = kid
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode()
    if alg == "none":
        return f"{head}.{body}."
    return f"{head}.{body}.{b64url(sign(alg, key, signing_input))}"


def rsa_jwk(key, kid, alg=None):
    n = key.public_key().public_numbers()
    jwk = {"kty": "RSA", "use": "sig", "kid": kid, "n": int_b64(n.n), "e": int_b64(n.e)}
    if alg:
        jwk["alg"] = alg
    return jwk


def ec_jwk(key, kid, crv):
    n = key.public_key().public_numbers()
    size = {"P-256": 32, "P-384": 48}[crv]
    return {
        "kty": "EC",
        "use": "sig",
        "kid": kid,
        "crv": crv,
        "x": b64url(n.x.to_bytes(size, "big")),
        "y": b64url(n.y.to_bytes(size, "big")),
    }


def main():
    if os.path.exists(os.path.join(HERE, "tokens.json")) and "--force" not in sys.argv:
        sys.exit("tokens.json exists: the keys were generated once; pass --force to make new ones")
    hs = os.urandom(32)
    rsa1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    entra = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec256 = ec.generate_private_key(ec.SECP256R1())
    ec384 = ec.generate_private_key(ec.SECP384R1())

    write("hs256.key.b64", base64.b64encode(hs).decode() + "\n")
    for name, key in [("rsa-1", rsa1), ("rsa-2", rsa2), ("rsa-other", rsa_other),
                      ("entra-1", entra), ("ec-256", ec256), ("ec-384", ec384)]:
        write(f"{name}.key.pem", private_pem(key))

    jwks1 = {"keys": [rsa_jwk(rsa1, "rsa-1"), ec_jwk(ec256, "ec-256", "P-256"),
                      ec_jwk(ec384, "ec-384", "P-384")]}
    jwks2 = {"keys": [rsa_jwk(rsa2, "rsa-2")]}
    jwks_entra = {"keys": [rsa_jwk(entra, "entra-1")]}
    write("jwks-1.json", json.dumps(jwks1, separators=(",", ":")) + "\n")
    write("jwks-2.json", json.dumps(jwks2, separators=(",", ":")) + "\n")
    write("jwks-entra.json", json.dumps(jwks_entra, separators=(",", ":")) + "\n")
    n1 = rsa1.public_key().public_numbers()
    write("rsa-1.n-e.json", json.dumps({"n": int_b64(n1.n), "e": int_b64(n1.e)}) + "\n")

    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": EPOCH - 60,
            "nbf": EPOCH - 60, "exp": EPOCH + 3600}
    t = {}
    for alg in ["HS256", "HS384", "HS512"]:
        t[alg.lower()] = token(alg, hs, base)
    for alg in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]:
        t[alg.lower()] = token(alg, rsa1, base, kid="rsa-1")
    t["rs256-no-kid"] = token("RS256", rsa1, base)
    t["es256"] = token("ES256", ec256, base, kid="ec-256")
    t["es384"] = token("ES384", ec384, base, kid="ec-384")
    t["rs256-rsa-2"] = token("RS256", rsa2, base, kid="rsa-2")
    t["rs256-unknown-kid"] = token("RS256", rsa_other, base, kid="rsa-9")
    t["rs256-wrong-key"] = token("RS256", rsa_other, base, kid="rsa-1")
    hs_other = b"another key, not the one of the policy"
    t["hs256-wrong-key"] = token("HS256", hs_other, base)
    t["hs256-no-exp"] = token("HS256", hs, {k: v for k, v in base.items() if k != "exp"})
    t["hs256-nbf-future"] = token("HS256", hs, {**base, "nbf": EPOCH + 120})
    t["hs256-wrong-aud"] = token("HS256", hs, {**base, "aud": "api://someone-else"})
    t["hs256-two-aud"] = token("HS256", hs, {**base, "aud": ["api://someone-else", AUDIENCE]})
    t["hs256-wrong-iss"] = token("HS256", hs, {**base, "iss": "https://evil.test/"})
    t["hs256-claims"] = token("HS256", hs, {**base, "group": "finance,logistics",
                                            "roles": ["reader", "writer"], "tier": "gold"})
    t["unsigned"] = token("none", None, base)
    t["not-a-jwt"] = "this.is-not-a.jwt"

    v1 = {"iss": f"https://sts.windows.net/{TENANT}/", "aud": "api://sluice-entra", "tid": TENANT,
          "appid": CLIENT_APP, "ver": "1.0", "iat": EPOCH - 60, "nbf": EPOCH - 60,
          "exp": EPOCH + 3600, "ctry": "US"}
    v2 = {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "aud": "api://sluice-entra",
          "tid": TENANT, "azp": CLIENT_APP, "ver": "2.0", "iat": EPOCH - 60, "nbf": EPOCH - 60,
          "exp": EPOCH + 3600, "ctry": "FR"}
    t["entra-v1"] = token("RS256", entra, v1, kid="entra-1")
    t["entra-v2"] = token("RS256", entra, v2, kid="entra-1")
    t["entra-v2-other-app"] = token("RS256", entra, {**v2, "azp": OTHER_APP}, kid="entra-1")
    t["entra-v2-backend-aud"] = token("RS256", entra, {**v2, "aud": BACKEND_APP}, kid="entra-1")
    t["entra-other-tenant"] = token(
        "RS256", entra,
        {**v2, "iss": "https://login.microsoftonline.com/99999999-0000-0000-0000-000000000000/v2.0"},
        kid="entra-1")
    write("tokens.json", json.dumps(t, indent=1) + "\n")


if __name__ == "__main__":
    main()
