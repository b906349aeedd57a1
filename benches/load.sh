#!/usr/bin/env bash
# The load benchmark: the gateway with a typical policy (benches/load/, about
# ten policies with expressions) against a bare hyper reverse proxy, both in
# front of the same local backend, under the same closed-loop load. Prints
# requests/s and p99 latency of each and their ratio. Not part of CI.
#
#   benches/load.sh                      # 10 s per target, 64 connections
#   DURATION=5 CONNECTIONS=32 ROUNDS=1 benches/load.sh
#
# The figures are only meaningful on an otherwise idle machine: the load
# generator, the backend and the proxy share its cores.
#
# Everything listens on free loopback ports and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-3}"

cargo build --release --quiet -p sluice-gateway -p sluice-benches --bins
bin="${CARGO_TARGET_DIR:-target}/release"

pids=()
work="$(mktemp -d)"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r p_backend p_bare p_gateway p_admin < <("$bin/load" free-ports 4)

# The gateway's configuration, with the free ports.
cp benches/load/*.xml "$work/"
sed -e "s/127.0.0.1:18080/127.0.0.1:$p_gateway/" \
    -e "s/127.0.0.1:19090/127.0.0.1:$p_admin/" \
    -e "s/127.0.0.1:18081/127.0.0.1:$p_backend/g" \
    benches/load/sluice.toml >"$work/sluice.toml"

"$bin/backend" "127.0.0.1:$p_backend" 2>"$work/backend.log" &
pids+=($!)
"$bin/bare_proxy" "127.0.0.1:$p_bare" "http://127.0.0.1:$p_backend" 2>"$work/bare.log" &
pids+=($!)
"$bin/sluice" run "$work/sluice.toml" 2>"$work/sluice.log" &
pids+=($!)
for port in "$p_backend" "$p_bare" "$p_gateway"; do
  "$bin/load" wait "127.0.0.1:$port"
done

path="/api/items/42?color=blue"
load() { # URL SECONDS
  "$bin/load" run "$1" --duration "$2" --connections "$CONNECTIONS" \
    --header "X-Client: bench-1" --header "Accept: application/json"
}

# The gateway answers 2xx with its policy applied (check-header lets bench-1
# in); then both warm up.
if ! "$bin/load" run "http://127.0.0.1:$p_gateway$path" --duration 0.1 --connections 1 \
  --header "X-Client: bench-1" >/dev/null; then
  echo "load.sh: the gateway does not answer 2xx; its log:" >&2
  cat "$work/sluice.log" >&2
  exit 1
fi
load "http://127.0.0.1:$p_bare$path" "$WARMUP" >/dev/null
load "http://127.0.0.1:$p_gateway$path" "$WARMUP" >/dev/null

echo "load: $CONNECTIONS connections, $DURATION s per target, $ROUNDS rounds, GET $path, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
# Rounds alternate the targets, so a disturbance hits both alike; the median
# round of each is reported.
: >"$work/bare.txt"
: >"$work/sluice.txt"
for round in $(seq "$ROUNDS"); do
  line="$(load "http://127.0.0.1:$p_bare$path" "$DURATION")"
  echo "round $round bare   $line"
  echo "$line" >>"$work/bare.txt"
  line="$(load "http://127.0.0.1:$p_gateway$path" "$DURATION")"
  echo "round $round sluice $line"
  echo "$line" >>"$work/sluice.txt"
done

# Line fields: requests/s R  p50 A ms  p99 B ms  requests N  errors E
median() { sort -n -k2,2 "$1" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }
bare="$(median "$work/bare.txt")"
sluice="$(median "$work/sluice.txt")"
echo
echo "bare   $bare"
echo "sluice $sluice"
awk -v b="$bare" -v s="$sluice" 'BEGIN {
  split(b, bf, " +"); split(s, sf, " +");
  printf "sluice / bare: throughput %.2f, p99 %.2f\n", sf[2] / bf[2], sf[7] / bf[7];
}'
