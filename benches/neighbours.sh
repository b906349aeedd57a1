#!/usr/bin/env bash
# The neighbours benchmark: the latency of ordinary requests (the load
# benchmark's API, benches/load/) while a hostile client loops a costly
# expression on the same gateway (each of its requests spins until the
# 200 ms expression budget stops it), against the same requests with no
# hostile client. Prints p50 and p99 of each and their ratios. Not part of
# CI.
#
#   benches/neighbours.sh                  # 5 s per round, 3 rounds of each
#   DURATION=3 ROUNDS=5 CONNECTIONS=8 HOSTILE=2 benches/neighbours.sh
#
# CONNECTIONS: the neighbours' keep-alive connections (a closed loop each);
# HOSTILE: the hostile client's. The figures are only meaningful on an
# otherwise idle machine: the load generators, the backend and the gateway
# share its cores.
#
# Everything listens on free loopback ports and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-5}"
CONNECTIONS="${CONNECTIONS:-8}"
HOSTILE="${HOSTILE:-2}"
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

read -r p_backend p_gateway p_admin < <("$bin/load" free-ports 3)

cp benches/load/*.xml "$work/"
sed -e "s/127.0.0.1:18080/127.0.0.1:$p_gateway/" \
    -e "s/127.0.0.1:19090/127.0.0.1:$p_admin/" \
    -e "s/127.0.0.1:18081/127.0.0.1:$p_backend/g" \
    benches/neighbours/sluice.toml >"$work/sluice.toml"

"$bin/backend" "127.0.0.1:$p_backend" 2>"$work/backend.log" &
pids+=($!)
"$bin/sluice" run "$work/sluice.toml" 2>"$work/sluice.log" &
pids+=($!)
for port in "$p_backend" "$p_gateway"; do
  "$bin/load" wait "127.0.0.1:$port"
done

url="http://127.0.0.1:$p_gateway/api/items/42?color=blue"
neighbours() { # SECONDS
  "$bin/load" run "$url" --duration "$1" --connections "$CONNECTIONS" \
    --header "X-Client: bench-1" --header "Accept: application/json"
}
hostile() { # SECONDS; its answers are 500s (the budget stopped it): not counted
  "$bin/load" run "http://127.0.0.1:$p_gateway/hostile" --duration "$1" \
    --connections "$HOSTILE" >"$work/hostile.txt" 2>&1 || true
}

if ! "$bin/load" run "$url" --duration 0.1 --connections 1 --header "X-Client: bench-1" >/dev/null; then
  echo "neighbours.sh: the gateway does not answer 2xx; its log:" >&2
  cat "$work/sluice.log" >&2
  exit 1
fi
neighbours "$WARMUP" >/dev/null

echo "neighbours: $CONNECTIONS connections, hostile: $HOSTILE connections, $DURATION s per round, $ROUNDS rounds, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
: >"$work/quiet.txt"
: >"$work/hostile-rounds.txt"
for round in $(seq "$ROUNDS"); do
  line="$(neighbours "$DURATION")"
  echo "round $round quiet   $line"
  echo "$line" >>"$work/quiet.txt"
  # The hostile client starts first and outlasts the neighbours' run.
  hostile "$((DURATION + 2))" &
  h=$!
  sleep 0.5
  line="$(neighbours "$DURATION")"
  echo "round $round hostile $line"
  echo "$line" >>"$work/hostile-rounds.txt"
  wait "$h"
  echo "        hostile client: $(cat "$work/hostile.txt" | head -1)"
done

# Line fields: requests/s R  p50 A ms  p99 B ms  requests N  errors E
median() { # FILE FIELD
  sort -n -k"$2,$2" "$1" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'
}
quiet="$(median "$work/quiet.txt" 4)"
loud="$(median "$work/hostile-rounds.txt" 4)"
echo
echo "quiet   $quiet"
echo "hostile $loud"
awk -v q="$quiet" -v h="$loud" 'BEGIN {
  split(q, qf, " +"); split(h, hf, " +");
  printf "hostile / quiet: p50 %.2f, p99 %.2f, throughput %.2f\n", hf[4] / qf[4], hf[7] / qf[7], hf[2] / qf[2];
}'
