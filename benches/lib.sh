# What the load benchmarks (benches/load.sh, benches/neighbours.sh) share,
# sourced by them after `set -euo pipefail` and a `cd` to the repository
# root: the release build, a work folder and the processes they start
# (stopped on exit), the gateway configured from benches/load/, waiting
# for ports, the check that a gateway answers 2xx, and the median round.
#
# The lines of `load run` have these fields:
#   requests/s R  p50 A ms  p99 B ms  requests N  errors E

# Builds the release binaries; sets `bin`, `work` (a fresh folder) and
# `pids` (what `spawn` starts), all stopped and removed on exit.
# SLUICE_BIN=path: that `sluice` instead of the one built, and no build
# (the other binaries as last built): to compare two commits' builds,
# copied aside, with the same bare proxy and load client.
bench_setup() {
  if [ -z "${SLUICE_BIN:-}" ]; then
    cargo build --release --quiet -p sluice-gateway -p sluice-benches --bins
  fi
  bin="${CARGO_TARGET_DIR:-target}/release"
  sluice_bin="${SLUICE_BIN:-$bin/sluice}"
  pids=()
  work="$(mktemp -d)"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

spawn() { # LOG COMMAND...: runs COMMAND in the background, stderr to LOG
  "${@:2}" 2>"$1" &
  pids+=($!)
}

# A gateway's configuration in DIR: the load API's policies
# (benches/load/*.xml) and TOML (a sluice.toml written for the load
# benchmark's ports) with the free ports GATEWAY and ADMIN, and the
# backend's port `p_backend`.
gateway_config() { # DIR GATEWAY ADMIN TOML
  mkdir -p "$1"
  cp benches/load/*.xml "$1/"
  sed -e "s/127.0.0.1:18080/127.0.0.1:$2/" \
      -e "s/127.0.0.1:19090/127.0.0.1:$3/" \
      -e "s/127.0.0.1:18081/127.0.0.1:$p_backend/g" \
      "$4" >"$1/sluice.toml"
}

wait_ports() { # PORT...
  for port in "$@"; do
    "$bin/load" wait "127.0.0.1:$port"
  done
}

# Fails the benchmark, showing LOG, unless URL answers 2xx (the load API's
# check-header lets the client `bench-1` in).
answers_2xx() { # WHO URL LOG
  if ! "$bin/load" run "$2" --duration 0.1 --connections 1 \
    --header "X-Client: bench-1" >/dev/null; then
    echo "$(basename "$0"): $1 does not answer 2xx; its log:" >&2
    cat "$3" >&2
    exit 1
  fi
}

median() { # FILE FIELD: the line of FILE with the median value of FIELD
  sort -n -k"$2,$2" "$1" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'
}
