#!/usr/bin/env python3
"""Generates the certificates, decryption keys and tokens of the
validate-jwt cases for `certificate-id` signing keys and `decryption-keys`
(encrypted tokens, JWE). Run ONCE; the outputs are kept in this folder (the
cases paste the tokens), like generate.py's, whose keys and tokens some of
these tokens nest (hs256.key.b64, rsa-other.key.pem, entra-1.key.pem): it
reads them and does not change them.

JWE (RFC 7516, compact form) is written out here with the `cryptography`
package's primitives (AES-CBC, HMAC, AES-GCM, AES key wrap, RSA-OAEP), so
that the gateway's decryption is checked against an independent writer.

Times as in generate.py: issued a minute before the conformance runner's
virtual clock starts (2025-01-01T00:00:00Z), expiring an hour after.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding as sym_padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import AUDIENCE, EPOCH, ISSUER, TENANT, CLIENT_APP, b64url, private_pem, token  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def write(name, text):
    with open(path(name), "w") as f:
        f.write(text)


def load_key(name):
    with open(path(name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def certificate(key, cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * 30))
        .sign(key, hashes.SHA256())
    )


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# Content encryption: key length in bytes of each `enc`.
CEK_LEN = {"A128CBC-HS256": 32, "A192CBC-HS384": 48, "A256CBC-HS512": 64,
           "A128GCM": 16, "A192GCM": 24, "A256GCM": 32}


def seal(enc, cek, aad, plaintext):
    """(iv, ciphertext, tag) of `plaintext` under `enc`."""
    if enc.endswith("GCM"):
        iv = os.urandom(12)
        out = AESGCM(cek).encrypt(iv, plaintext, aad)
        return iv, out[:-16], out[-16:]
    half = len(cek) // 2
    mac_key, enc_key = cek[:half], cek[half:]
    iv = os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    e = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    ct = e.update(padded) + e.finalize()
    digest = {16: hashlib.sha256, 24: hashlib.sha384, 32: hashlib.sha512}[half]
    al = struct.pack(">Q", len(aad) * 8)
    tag = hmac.new(mac_key, aad + iv + ct + al, digest).digest()[:half]
    return iv, ct, tag


def encrypt(alg, enc, key, plaintext, cty="JWT"):
    """A compact JWE of `plaintext` (bytes): `key` is the symmetric key
    (`dir`, `A*KW`) or the recipient's RSA public key."""
    header = {"alg": alg, "enc": enc}
    if cty:
        header["cty"] = cty
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    if alg == "dir":
        cek, encrypted_key = key, b""
    else:
        cek = os.urandom(CEK_LEN[enc])
        if alg.endswith("KW"):
            encrypted_key = aes_key_wrap(key, cek)
        elif alg == "RSA-OAEP":
            encrypted_key = key.encrypt(cek, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
        elif alg == "RSA-OAEP-256":
            encrypted_key = key.encrypt(cek, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
        elif alg == "RSA1_5":
            encrypted_key = key.encrypt(cek, padding.PKCS1v15())
        else:
            raise ValueError(alg)
    iv, ct, tag = seal(enc, cek, h.encode(), plaintext)
    return ".".join([h, b64url(encrypted_key), b64url(iv), b64url(ct), b64url(tag)])


def main():
    if os.path.exists(path("tokens-encrypted.json")) and "--force" not in sys.argv:
        sys.exit("tokens-encrypted.json exists: generated once; pass --force to make new ones")
    hs = base64.b64decode(open(path("hs256.key.b64")).read())
    rsa_other = load_key("rsa-other.key.pem")
    entra = load_key("entra-1.key.pem")

    # Signing certificates (public only, as a [certificates.ID] entry has them).
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer_ec = ec.generate_private_key(ec.SECP256R1())
    write("signer.key.pem", private_pem(signer))
    write("signer-ec.key.pem", private_pem(signer_ec))
    write("signer.cert.pem", cert_pem(certificate(signer, "token signer")))
    write("signer-ec.cert.pem", cert_pem(certificate(signer_ec, "token signer (EC)")))
    # Decryption certificates: certificate and private key in one PEM file.
    decrypter = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    write("decrypter.pem", cert_pem(certificate(decrypter, "token decrypter")) + private_pem(decrypter))
    write("decrypter-other.pem", cert_pem(certificate(other, "another decrypter")) + private_pem(other))
    # Symmetric decryption keys, Base64 as `<key>` takes them.
    k = {n: os.urandom(n) for n in (16, 24, 32, 64)}
    for n, key in k.items():
        write(f"jwe-{n * 8}.key.b64", base64.b64encode(key).decode() + "\n")

    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": EPOCH - 60,
            "nbf": EPOCH - 60, "exp": EPOCH + 3600}
    t = {}
    for alg in ["RS256", "RS512", "PS256"]:
        t[f"cert-{alg.lower()}"] = token(alg, signer, base)
    t["cert-es256"] = token("ES256", signer_ec, base)
    t["cert-rs256-wrong-key"] = token("RS256", rsa_other, base)

    inner_hs = token("HS256", hs, base).encode()
    inner_cert = t["cert-rs256"].encode()
    pub = decrypter.public_key()
    t["jwe-dir-a128cbc-hs256"] = encrypt("dir", "A128CBC-HS256", k[32], inner_hs)
    t["jwe-dir-a256cbc-hs512"] = encrypt("dir", "A256CBC-HS512", k[64], inner_hs)
    t["jwe-a128kw-a128gcm"] = encrypt("A128KW", "A128GCM", k[16], inner_hs)
    t["jwe-a192kw-a192cbc-hs384"] = encrypt("A192KW", "A192CBC-HS384", k[24], inner_hs)
    t["jwe-a256kw-a256gcm"] = encrypt("A256KW", "A256GCM", k[32], inner_hs)
    t["jwe-rsa-oaep-a256gcm"] = encrypt("RSA-OAEP", "A256GCM", pub, inner_cert)
    t["jwe-rsa-oaep-256-a128cbc-hs256"] = encrypt("RSA-OAEP-256", "A128CBC-HS256", pub, inner_cert)
    t["jwe-rsa-oaep-256-a192gcm"] = encrypt("RSA-OAEP-256", "A192GCM", pub, inner_cert)
    # Refused ones.
    t["jwe-dir-unsigned"] = encrypt("dir", "A128CBC-HS256", k[32], token("none", None, base).encode())
    t["jwe-dir-wrong-signature"] = encrypt("dir", "A128CBC-HS256", k[32],
                                           token("HS256", b"not the policy's key", base).encode())
    t["jwe-dir-expired"] = encrypt("dir", "A128CBC-HS256", k[32],
                                   token("HS256", hs, {**base, "exp": EPOCH - 30}).encode())
    t["jwe-dir-claims-not-a-jwt"] = encrypt("dir", "A128CBC-HS256", k[32],
                                            json.dumps(base).encode(), cty=None)
    t["jwe-rsa-oaep-other-key"] = encrypt("RSA-OAEP", "A256GCM", other.public_key(), inner_cert)
    t["jwe-rsa1_5"] = encrypt("RSA1_5", "A128CBC-HS256", pub, inner_cert)
    good = t["jwe-dir-a128cbc-hs256"].split(".")
    ct = bytearray(base64.urlsafe_b64decode(good[3] + "=" * (-len(good[3]) % 4)))
    ct[0] ^= 1
    t["jwe-dir-tampered"] = ".".join(good[:3] + [b64url(bytes(ct))] + good[4:])
    # An Entra v2 token, encrypted to the decrypter, for validate-azure-ad-token.
    v2 = {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "aud": "api://sluice-entra",
          "tid": TENANT, "azp": CLIENT_APP, "ver": "2.0", "iat": EPOCH - 60, "nbf": EPOCH - 60,
          "exp": EPOCH + 3600, "ctry": "FR"}
    t["jwe-entra-v2"] = encrypt("RSA-OAEP-256", "A256GCM", pub,
                                token("RS256", entra, v2, kid="entra-1").encode())
    write("tokens-encrypted.json", json.dumps(t, indent=1) + "\n")


if __name__ == "__main__":
    main()
