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

source benches/lib.sh
bench_setup

read -r p_backend p_gateway p_admin < <("$bin/load" free-ports 3)

gateway_config "$work" "$p_gateway" "$p_admin" benches/neighbours/sluice.toml

spawn "$work/backend.log" "$bin/backend" "127.0.0.1:$p_backend"
spawn "$work/sluice.log" "$sluice_bin" run "$work/sluice.toml"
wait_ports "$p_backend" "$p_gateway"

url="http://127.0.0.1:$p_gateway/api/items/42?color=blue"
neighbours() { # SECONDS
  "$bin/load" run "$url" --duration "$1" --connections "$CONNECTIONS" \
    --header "X-Client: bench-1" --header "Accept: application/json"
}
hostile() { # SECONDS; its answers are 500s (the budget stopped it): not counted
  "$bin/load" run "http://127.0.0.1:$p_gateway/hostile" --duration "$1" \
    --connections "$HOSTILE" >"$work/hostile.txt" 2>&1 || true
}

answers_2xx "the gateway" "$url" "$work/sluice.log"
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

# The median round of each by p50 (lib.sh: the line's fields).
quiet="$(median "$work/quiet.txt" 4)"
loud="$(median "$work/hostile-rounds.txt" 4)"
echo
echo "quiet   $quiet"
echo "hostile $loud"
awk -v q="$quiet" -v h="$loud" 'BEGIN {
  split(q, qf, " +"); split(h, hf, " +");
  printf "hostile / quiet: p50 %.2f, p99 %.2f, throughput %.2f\n", hf[4] / qf[4], hf[7] / qf[7], hf[2] / qf[2];
}'
