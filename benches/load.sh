#!/usr/bin/env bash
# The load benchmark: the gateway with a typical policy (benches/load/, about
# ten policies with expressions) against a bare hyper reverse proxy, both in
# front of the same local backend, under the same closed-loop load. Prints
# requests/s and p99 latency of each and their ratio. Not part of CI.
#
#   benches/load.sh                      # 10 s per target, 64 connections
#   DURATION=5 CONNECTIONS=32 ROUNDS=1 benches/load.sh
#   VARIANTS="counters-memory counters-redis" benches/load.sh
#
# Each variant (benches/load/variants/NAME/, see its README) is the same
# gateway with more policies; it runs as one more target, and its ratio to
# the gateway without them is printed too.
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
VARIANTS="${VARIANTS:-}"

source benches/lib.sh
bench_setup

read -r p_backend p_bare p_gateway p_admin p_redis < <("$bin/load" free-ports 5)

# A gateway's configuration in DIR, with the free ports GATEWAY and ADMIN;
# with a variant: its policies in the API's inbound, its section appended.
configure() { # DIR GATEWAY ADMIN [VARIANT]
  gateway_config "$1" "$2" "$3" benches/load/sluice.toml
  if [ -n "${4:-}" ]; then
    local v="benches/load/variants/$4"
    [ -d "$v" ] || { echo "load.sh: no variant $4 (benches/load/variants/)" >&2; exit 2; }
    if [ -f "$v/inbound.xml" ]; then
      awk -v f="$v/inbound.xml" '
        !done && /<base \/>/ { print; while ((getline l < f) > 0) print l; done = 1; next }
        { print }' benches/load/api.xml >"$1/api.xml"
    fi
    if [ -f "$v/sluice.toml" ]; then
      echo >>"$1/sluice.toml"
      sed -e "s/REDIS_PORT/$p_redis/g" "$v/sluice.toml" >>"$1/sluice.toml"
    fi
  fi
}

configure "$work/sluice" "$p_gateway" "$p_admin"

spawn "$work/backend.log" "$bin/backend" "127.0.0.1:$p_backend"
spawn "$work/bare.log" "$bin/bare_proxy" "127.0.0.1:$p_bare" "http://127.0.0.1:$p_backend"
spawn "$work/sluice.log" "$sluice_bin" run "$work/sluice/sluice.toml"
wait_ports "$p_backend" "$p_bare" "$p_gateway"

# The variants: one gateway each (and one Redis if a variant names it).
targets="bare sluice"
declare -A port_of=([bare]="$p_bare" [sluice]="$p_gateway")
for v in $VARIANTS; do
  if grep -qs REDIS_PORT "benches/load/variants/$v/sluice.toml"; then
    scripts/redis start "$p_redis" >"$work/redis.log" 2>&1 &
    pids+=($!)
    wait_ports "$p_redis"
    break
  fi
done
for v in $VARIANTS; do
  read -r pv pa < <("$bin/load" free-ports 2)
  configure "$work/$v" "$pv" "$pa" "$v"
  spawn "$work/$v.log" "$sluice_bin" run "$work/$v/sluice.toml"
  wait_ports "$pv"
  targets="$targets $v"
  port_of[$v]="$pv"
done

path="/api/items/42?color=blue"
load() { # URL SECONDS
  "$bin/load" run "$1" --duration "$2" --connections "$CONNECTIONS" \
    --header "X-Client: bench-1" --header "Accept: application/json"
}

# Every gateway answers 2xx with its policy applied (check-header lets
# bench-1 in); then every target warms up.
for t in $targets; do
  [ "$t" = bare ] && continue
  log="$work/$t.log"
  [ "$t" = sluice ] && log="$work/sluice.log"
  answers_2xx "$t" "http://127.0.0.1:${port_of[$t]}$path" "$log"
done
for t in $targets; do
  load "http://127.0.0.1:${port_of[$t]}$path" "$WARMUP" >/dev/null
done

echo "load: $CONNECTIONS connections, $DURATION s per target, $ROUNDS rounds, GET $path, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
# Rounds alternate the targets, so a disturbance hits all alike; the median
# round of each is reported.
for t in $targets; do : >"$work/$t.txt"; done
for round in $(seq "$ROUNDS"); do
  for t in $targets; do
    line="$(load "http://127.0.0.1:${port_of[$t]}$path" "$DURATION")"
    printf 'round %s %-16s %s\n' "$round" "$t" "$line"
    echo "$line" >>"$work/$t.txt"
  done
done

# The median round of each target by requests/s (lib.sh: the line's fields).
echo
declare -A med
for t in $targets; do
  med[$t]="$(median "$work/$t.txt" 2)"
  printf '%-16s %s\n' "$t" "${med[$t]}"
done
ratio() { # NAME OVER
  awk -v n="$1" -v d="$2" -v s="${med[$1]}" -v b="${med[$2]}" 'BEGIN {
    split(b, bf, " +"); split(s, sf, " +");
    printf "%s / %s: throughput %.2f, p99 %.2f\n", n, d, sf[2] / bf[2], sf[7] / bf[7];
  }'
}
ratio sluice bare
for v in $VARIANTS; do
  ratio "$v" sluice
  ratio "$v" bare
done
