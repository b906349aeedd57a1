#!/usr/bin/env bash
# Regenerates the TLS test data (run once; the files are kept): a test CA,
# two server certificates for localhost and 127.0.0.1 (the second for the
# reload test), a client certificate from the CA, a self-signed client
# certificate the CA did not issue, and a self-signed server certificate.
# Keys are throwaway test keys.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days "$days" \
  -subj "/CN=Sluice Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
leaf() { # NAME SUBJECT EXTENSIONS
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" \
    -days "$days" -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
server_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf server "/CN=localhost" "$server_ext"
leaf server2 "/CN=localhost/O=Second" "$server_ext"
leaf client "/CN=sluice-test-client/O=Sluice Tests" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:client.sluice.test"
openssl req -x509 -newkey rsa:2048 -nodes -keyout stranger.key -out stranger.pem -days "$days" \
  -subj "/CN=stranger" -addext "basicConstraints=CA:FALSE" -addext "extendedKeyUsage=clientAuth"
# A self-signed server certificate for `self.test` (a backend's `tls`
# switches); generated alone by the line below.
openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.pem -days "$days" \
  -subj "/CN=self.test" -addext "basicConstraints=CA:FALSE" \
  -addext "extendedKeyUsage=serverAuth" -addext "subjectAltName=DNS:self.test"
rm -f ca.srl
# The client certificate and key as PKCS#12 (OpenSSL's defaults: AES-256,
# PBKDF2), with a test password.
openssl pkcs12 -export -in client.pem -inkey client.key -out client.pfx -passout pass:test-pfx-password
