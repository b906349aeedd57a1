#!/usr/bin/env bash
# Regenerates the certificates of the validate-client-certificate cases (run
# once; the files are kept): a CA and another CA, and client certificates
# valid around the runner's clock (2025-01-01): one from the CA, one
# expired in 2024, one valid from 2026, and a self-signed stranger. The CA
# keys are kept so that more can be issued; all keys are throwaway.
set -euo pipefail
cd "$(dirname "$0")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = this
[this]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.sluice.test,DNS:other.sluice.test
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
CNF
: >"$work/index.txt"
echo 1000 >"$work/serial"
ca() { # NAME SUBJECT START END
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$work/$1.csr" -subj "$2" 2>/dev/null
  openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$1.key" -in "$work/$1.csr" \
    -out "$1.pem" -startdate "$3" -enddate "$4" -extensions root -notext 2>/dev/null
}
client() { # NAME SUBJECT START END ISSUER
  openssl req -newkey rsa:2048 -nodes -keyout "$work/$1.key" -out "$work/$1.csr" -subj "$2" 2>/dev/null
  openssl ca -batch -config "$work/ca.cnf" -cert "$5.pem" -keyfile "$5.key" -in "$work/$1.csr" \
    -out "$1.pem" -startdate "$3" -enddate "$4" -extensions client -notext 2>/dev/null
}
ca ca "/CN=Conformance CA/O=Sluice Tests" 20200101000000Z 21000101000000Z
ca other-ca "/CN=Other CA" 20200101000000Z 21000101000000Z
client client "/CN=conformance-client/O=Sluice Tests" 20200101000000Z 21000101000000Z ca
client expired "/CN=expired-client" 20200101000000Z 20240101000000Z ca
client future "/CN=future-client" 20260101000000Z 21000101000000Z ca
client other "/CN=other-client" 20200101000000Z 21000101000000Z other-ca
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/stranger.key" -out stranger.pem \
  -days 36500 -subj "/CN=stranger" 2>/dev/null
