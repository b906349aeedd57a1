#!/usr/bin/env bash
# The semantic cache's load benchmarks. Not part of CI.
#
# 1. Exact-layer hit: the gateway (release build) whose cache holds the
#    prompt, so that every request is answered by the in-process exact layer,
#    against a bare hyper server answering the same bytes (same body and
#    Content-Type: benches/src/bin/mock_llm.rs, which is also the LLM behind
#    the gateway). Same load, same POST body; requests/s, p99, ratio. The
#    gateway runs the default configuration (no status header, so its answer
#    has the bare server's bytes); every answer is checked to be an
#    exact-layer hit by the gateway's metrics (hits up by at least the
#    answers counted, misses and skips unchanged).
# 2. Semantic hit: the store filled with N prompts ("topic i: ..."), then
#    requests whose prompts are new paraphrases ("... regarding topic i ...",
#    never an exact repeat), so each one costs an embeddings call (a
#    zero-latency stub with deterministic 384-d vectors,
#    benches/src/bin/embeddings_stub.rs) and a vector search that finds its
#    topic. p50, p99, requests/s and hit rate for each store (memory, and
#    Redis 8 with the search module from scripts/redis) and N. The memory
#    store is filled through the gateway (prompts that miss and are stored);
#    Redis directly with the store's own code (benches/src/bin/redis_fill.rs),
#    since through the gateway its fill is quadratic (see semantic_redis).
#
#   benches/cache.sh                            # about 5 minutes on 2 cores
#   DURATION=5 ROUNDS=1 SIZES=10000 STORES=memory benches/cache.sh
#
# Settings (environment):
#   DURATION=10        seconds per measured run (both parts)
#   WARMUP=2           seconds of warm-up before measuring
#   ROUNDS=3           rounds of part 1 (alternating targets; median reported)
#   CONNECTIONS=64     connections of part 1
#   SEMANTIC_CONNECTIONS=8   connections of part 2 (latency under modest load)
#   FILL_CONNECTIONS=16      connections filling the store
#   SIZES="10000 100000"     store sizes of part 2, ascending (filled incrementally)
#   STORES="memory redis"    stores of part 2
#   PARTS="exact semantic"   which parts to run
#   QUIET_WAIT=900     seconds to wait for other load runs to end before measuring
#   BUILD=1            0: use the release binaries already built
#   EXACT_STATUS=0     1: part 1 with the opt-in status header on (two more
#                      response headers per answer)
#
# The figures are only meaningful on an otherwise idle machine: the load
# generator, the stubs, Redis and the gateway share its cores. Before every
# measurement the script waits while another load run (benches/load.sh) is
# active. Everything listens on free loopback ports and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
SEMANTIC_CONNECTIONS="${SEMANTIC_CONNECTIONS:-8}"
FILL_CONNECTIONS="${FILL_CONNECTIONS:-16}"
SIZES="${SIZES:-10000 100000}"
STORES="${STORES:-memory redis}"
PARTS="${PARTS:-exact semantic}"
QUIET_WAIT="${QUIET_WAIT:-900}"
BUILD="${BUILD:-1}"
EXACT_STATUS="${EXACT_STATUS:-0}"

if [ "$BUILD" != 0 ]; then
  cargo build --release --quiet -p sluice-gateway -p sluice-benches --bins \
    --features sluice-benches/redis-fill
fi
bin="${CARGO_TARGET_DIR:-target}/release"
sluice_bin="${SLUICE_BIN:-$bin/sluice}"  # another build's, to compare (with BUILD=0)
case "$STORES" in *redis*) scripts/redis install ;; esac

pids=()
work="$(mktemp -d)"
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r p_llm p_embed p_gateway p_admin < <("$bin/load" free-ports 4)

"$bin/mock_llm" "127.0.0.1:$p_llm" 2>"$work/llm.log" &
pids+=($!)
"$bin/embeddings_stub" "127.0.0.1:$p_embed" 2>"$work/embeddings.log" &
pids+=($!)
"$bin/load" wait "127.0.0.1:$p_llm"
"$bin/load" wait "127.0.0.1:$p_embed"

# Waits while another load run is active (benches/load.sh's or another
# cache.sh's; this script's own runs are never running at that moment).
quiet() {
  local waited=0
  while pgrep -f 'bare_proxy|/load run ' >/dev/null; do
    if [ "$waited" -eq 0 ]; then
      echo "  (another load run is active; waiting for it to end)" >&2
    fi
    if [ "$waited" -ge "$QUIET_WAIT" ]; then
      echo "  (still active after $QUIET_WAIT s: measuring anyway, figures disturbed)" >&2
      return
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

# The gateway: one OpenAI-style API with the semantic cache in front of the
# mock LLM, on the given store; with the opt-in status header unless the
# second argument is `plain` (the default configuration).
gateway_pid=
REDIS_PORT=
start_gateway() { # STORE [plain]
  local store="$1" redis="" status='status-header = "x-sluice-cache"'
  if [ "$store" = redis ]; then
    redis="redis-url = \"redis://127.0.0.1:$REDIS_PORT\""
  fi
  if [ "${2:-}" = plain ]; then
    status=""
  fi
  cat >"$work/sluice.toml" <<EOF
[gateway]
listen = "127.0.0.1:$p_gateway"

[admin]
listen = "127.0.0.1:$p_admin"

[semantic-cache]
store = "$store"
$redis
redis-prefix = "bench:sc:"
max-entries = 1000000
$status

[backends.embeddings]
url = "http://127.0.0.1:$p_embed/v1/embeddings"

[[api]]
name = "llm"
path = "llm"
service-url = "http://127.0.0.1:$p_llm/openai"
policy = '''<policies>
  <inbound>
    <base />
    <llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings" embeddings-backend-auth="system-assigned" />
  </inbound>
  <backend><base /></backend>
  <outbound>
    <llm-semantic-cache-store duration="3600" />
    <base />
  </outbound>
  <on-error><base /></on-error>
</policies>'''
EOF
  "$sluice_bin" run "$work/sluice.toml" 2>"$work/sluice-$store.log" &
  gateway_pid=$!
  pids+=("$gateway_pid")
  "$bin/load" wait "127.0.0.1:$p_gateway"
  "$bin/load" wait "127.0.0.1:$p_admin"
}

stop_gateway() {
  kill "$gateway_pid" 2>/dev/null || true
  wait "$gateway_pid" 2>/dev/null || true
}

url="http://127.0.0.1:$p_gateway/llm/v1/chat/completions"
json=(--method POST --header "Content-Type: application/json")

# The store's entry count (GET /cache on the admin listener).
# A counter of the cache's metrics (summed over its labels matching FILTER).
counter() { # NAME [FILTER]
  curl -sf "http://127.0.0.1:$p_admin/metrics" |
    awk -v n="$1" -v f="${2:-}" 'index($0, n) == 1 && index($0, f) { s += $NF } END { printf "%d\n", s }'
}
exact_hits() { counter sluice_semantic_cache_hits_total 'layer="exact"'; }
# Lookups that were not hits: misses and skips.
not_hits() { echo $(($(counter sluice_semantic_cache_misses_total) + $(counter sluice_semantic_cache_skips_total))); }

entries() {
  curl -sf "http://127.0.0.1:$p_admin/cache" | tr -d ' \n' | sed -n 's/.*"entries":\([0-9]*\).*/\1/p'
}

# Line fields: requests/s R  p50 A ms  p99 B ms  requests N  errors E  [matched M]
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$1"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1 /proc/loadavg)"

# --- 1. Exact-layer hit against the bare server ------------------------------

exact_part() {
  local prompt='{"model":"gpt-4o","messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"What is the capital of France?"}]}'
  local bare="http://127.0.0.1:$p_llm/v1/chat/completions"
  # The default configuration (no status header): the gateway answers with
  # the bare server's bytes. Hits are counted by the gateway's metrics.
  if [ "$EXACT_STATUS" = 1 ]; then
    start_gateway memory
  else
    start_gateway memory plain
  fi
  # The first request misses and is stored (in the background); then every
  # request must be an exact-layer hit, with the bare server's bytes.
  curl -sf "$url" -H 'Content-Type: application/json' -d "$prompt" -o /dev/null
  local hit=no i before
  for i in $(seq 50); do
    before="$(exact_hits)"
    curl -sf -o "$work/hit.json" "$url" -H 'Content-Type: application/json' -d "$prompt"
    if [ "$(exact_hits)" -gt "$before" ]; then
      hit=yes
      break
    fi
    sleep 0.1
  done
  if [ "$hit" != yes ]; then
    echo "cache.sh: the gateway's answer is not an exact-layer hit; its log:" >&2
    cat "$work/sluice-memory.log" >&2
    exit 1
  fi
  curl -sf -o "$work/bare.json" "$bare" -H 'Content-Type: application/json' -d "$prompt"
  if ! cmp -s "$work/hit.json" "$work/bare.json"; then
    echo "cache.sh: the gateway's hit and the bare server's answer differ" >&2
    exit 1
  fi

  run_exact() { # URL SECONDS [options]
    local target="$1" seconds="$2"
    shift 2
    "$bin/load" run "$target" --duration "$seconds" --connections "$CONNECTIONS" \
      "${json[@]}" --body "$prompt" "$@"
  }
  quiet
  run_exact "$bare" "$WARMUP" >/dev/null
  run_exact "$url" "$WARMUP" >/dev/null

  echo
  echo "exact-layer hit: $CONNECTIONS connections, $DURATION s per target, $ROUNDS rounds, POST ${#prompt}-byte chat body, $(wc -c <"$work/bare.json")-byte answer"
  : >"$work/bare.txt"
  : >"$work/sluice.txt"
  local round line hits0 not0 hits
  for round in $(seq "$ROUNDS"); do
    quiet
    line="$(run_exact "$bare" "$DURATION")"
    echo "round $round bare   $line"
    echo "$line" >>"$work/bare.txt"
    quiet
    hits0="$(exact_hits)"
    not0="$(not_hits)"
    line="$(run_exact "$url" "$DURATION" || true)"
    # Requests still in flight when the run stops are answered too: at least
    # as many hits as answers counted, and no lookup that was not a hit.
    hits=$(($(exact_hits) - hits0))
    echo "round $round sluice $line  exact-hits $hits"
    if [ "$hits" -lt "$(field "$line" requests)" ] || [ "$(not_hits)" != "$not0" ] ||
      [ "$(field "$line" errors)" != 0 ]; then
      echo "cache.sh: some answers were errors or not exact-layer hits" >&2
      exit 1
    fi
    echo "$line" >>"$work/sluice.txt"
  done
  median() { sort -n -k2,2 "$1" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }
  local b s
  b="$(median "$work/bare.txt")"
  s="$(median "$work/sluice.txt")"
  echo "bare   $b"
  echo "sluice $s"
  awk -v b="$b" -v s="$s" 'BEGIN {
    split(b, bf, " +"); split(s, sf, " +");
    printf "exact hit / bare server: throughput %.2f (target >= 0.8), p99 %.2f\n", sf[2] / bf[2], sf[7] / bf[7];
  }'
  stop_gateway
}

# --- 2. Semantic hits, by store and size -------------------------------------

# Prompt i of the fill, and paraphrases of topic n % N (never exact repeats:
# each request of a run has its own number, and every run its own numbers).
fill_text='topic {n}: what should I know about subject number {n}?'
fill_body="{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"$fill_text\"}]}"
paraphrase() { # N
  echo "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me, regarding topic {n%$1}, everything worth knowing (question {n}).\"}]}"
}
run_number=0

# Sends fill prompts FROM..TO-1 through the gateway; the line counts the
# failed lookups as matched.
fill() { # FROM TO
  local line
  line="$("$bin/load" run "$url" "${json[@]}" --body "$fill_body" --start "$1" \
    --requests $(($2 - $1)) --duration 3600 --connections "$FILL_CONNECTIONS" \
    --match-header "x-sluice-cache: miss; error" || true)"
  if [ -z "$line" ] || [ "$(field "$line" errors)" != 0 ]; then
    echo "cache.sh: filling: $line; the gateway's log:" >&2
    cat "$work"/sluice-*.log >&2
    exit 1
  fi
  echo "$line"
}

# Waits until the store holds COUNT entries (stores are written in the
# background); fails after 30 s.
settle() { # COUNT
  local i
  for i in $(seq 60); do
    [ "$(entries)" -ge "$1" ] && return 0
    sleep 0.5
  done
  return 1
}

# Measures new paraphrases of the N stored topics; appends a table row.
# `Cache-Control: no-store`: a paraphrase that misses is answered by the
# mock LLM but not stored, so the store keeps N entries and only lookups
# are measured.
measure() { # STORE N
  local store="$1" n="$2" body line
  body="$(paraphrase "$n")"
  run_number=$((run_number + 1))
  quiet
  "$bin/load" run "$url" "${json[@]}" --header "Cache-Control: no-store" --body "$body" \
    --start $((run_number * 1000000000)) --duration "$WARMUP" \
    --connections "$SEMANTIC_CONNECTIONS" >/dev/null || true
  run_number=$((run_number + 1))
  quiet
  line="$("$bin/load" run "$url" "${json[@]}" --header "Cache-Control: no-store" --body "$body" \
    --start $((run_number * 1000000000)) --duration "$DURATION" \
    --connections "$SEMANTIC_CONNECTIONS" \
    --match-header "x-sluice-cache: hit; layer=semantic" || true)"
  echo "  $store $n: $line (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
  if [ -z "$line" ] || [ "$(field "$line" errors)" != 0 ]; then
    echo "cache.sh: errors measuring $store at $n entries; the gateway's log:" >&2
    cat "$work/sluice-$store.log" >&2
    exit 1
  fi
  printf '%-7s %8s %9s %9s %8s %9s\n' "$store" "$n" "$(field "$line" p50)" "$(field "$line" p99)" \
    "$(field "$line" requests/s)" \
    "$(awk -v m="$(field "$line" matched)" -v r="$(field "$line" requests)" 'BEGIN { printf "%.1f%%", r ? 100 * m / r : 0 }')" \
    >>"$work/table.txt"
}

# Memory: filled through the gateway, prompts that miss and are stored,
# one size after the other (the next size adds prompts).
semantic_memory() {
  local filled=0 base n line started failed pass held
  start_gateway memory
  base="$(entries)"
  for n in $SIZES; do
    if [ "$n" -gt "$filled" ]; then
      started=$SECONDS
      line="$(fill "$filled" "$n")"
      failed="$(field "$line" matched)"
      # The memory store cannot fail, but a lookup can (an embeddings
      # timeout on a starved machine, say): it is a miss and nothing is
      # stored. The same prompts again store those (the others hit now).
      for pass in 1 2 3; do
        settle $((base + n)) || true
        held=$(($(entries) - base))
        [ "$held" -ge "$n" ] && break
        echo "  memory: $held of $n entries stored ($failed failed lookups); again (pass $pass)" >&2
        line="$(fill "$filled" "$n")"
        failed=$((failed + $(field "$line" matched)))
      done
      if ! settle $((base + n)); then
        echo "cache.sh: the memory store holds $(($(entries) - base)) entries, not $n; gateway metrics:" >&2
        curl -s "http://127.0.0.1:$p_admin/metrics" | grep '^sluice_semantic_cache' | grep -v _bucket >&2
        exit 1
      fi
      echo "  filled memory to $n entries through the gateway in $((SECONDS - started)) s" >&2
      filled=$n
    fi
    measure memory "$n"
  done
  stop_gateway
}

# Redis: for each size a fresh server filled directly with the store's own
# code (redis_fill: the same entries the gateway stores, without a search
# before each insert; through the gateway the fill is quadratic, since
# Redis' filtered KNN search scans the whole partition), then measured
# through the gateway. The partition id comes from a memory gateway (same
# API and prompt shape: the partition does not depend on the store).
semantic_redis() {
  local n started line partition redis_pid p_redis
  start_gateway memory
  partition="$(curl -sf -D - -o /dev/null "$url" -H 'Content-Type: application/json' \
    -d "${fill_body//\{n\}/999999999}" | tr -d '\r' | sed -n 's/^x-sluice-cache-partition: //Ip')"
  stop_gateway
  [ -n "$partition" ] || { echo "cache.sh: no partition id from the gateway" >&2; exit 1; }
  for n in $SIZES; do
    read -r p_redis < <("$bin/load" free-ports 1)
    scripts/redis start "$p_redis" >"$work/redis.log" 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    "$bin/load" wait "127.0.0.1:$p_redis"
    started=$SECONDS
    if ! line="$("$bin/redis_fill" "redis://127.0.0.1:$p_redis" "bench:sc:" "$partition" \
      --embeddings "http://127.0.0.1:$p_embed/v1/embeddings" \
      --answer "http://127.0.0.1:$p_llm/openai/chat/completions" \
      --text "$fill_text" --from 0 --to "$n" --concurrency "$FILL_CONNECTIONS")"; then
      echo "cache.sh: filling Redis failed; its log:" >&2
      cat "$work/redis.log" >&2
      exit 1
    fi
    REDIS_PORT="$p_redis"
    start_gateway redis
    if [ "$(entries)" != "$n" ]; then
      echo "cache.sh: Redis holds $(entries) entries, not $n" >&2
      exit 1
    fi
    echo "  filled redis to $n entries directly in $((SECONDS - started)) s ($line)" >&2
    measure redis "$n"
    stop_gateway
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  done
}

for part in $PARTS; do
  case "$part" in
    exact) exact_part ;;
    semantic)
      echo
      echo "semantic hit: $SEMANTIC_CONNECTIONS connections, $DURATION s per run, 384-d vectors, new paraphrases only"
      : >"$work/table.txt"
      for store in $STORES; do
        case "$store" in
          memory) semantic_memory ;;
          redis) semantic_redis ;;
          *) echo "cache.sh: unknown store $store (memory, redis)" >&2; exit 2 ;;
        esac
      done
      printf '%-7s %8s %9s %9s %8s %9s\n' store entries "p50 ms" "p99 ms" "req/s" "hit rate"
      cat "$work/table.txt"
      ;;
    *) echo "cache.sh: unknown part $part (exact, semantic)" >&2; exit 2 ;;
  esac
done
