#!/usr/bin/env bash
# JVM flag variants of the Outrider pair, side by side in one run: start to ready, RSS idle and at a fixed
# rate, CPU per 1,000 requests, maximum throughput, p99 at the fixed rate, and (with NMT on) where the
# memory of sidecar B goes. The pair is the one compare.sh measures (mTLS h2, JWT + ALLOW + rate limit on B).
#
#   bench/scripts/jvm-flags.sh \
#     --variant 'default=@config/jvm/sidecar.options' \
#     --variant 'heap96=@config/jvm/sidecar.options -Xmx96m' \
#     --variant 'arenas2=MALLOC_ARENA_MAX=2 @config/jvm/sidecar.options'
#
# A variant is NAME=FLAGS: the JVM flags of both sidecars (OUTRIDER_JAVA_OPTS); leading VAR=value words are
# put in the sidecars' environment instead. --nmt adds -XX:NativeMemoryTracking=summary to every variant and
# prints B's NMT summary after the fixed-rate run of the last round (NMT itself costs a little memory and CPU).
# Per round every variant gets a fresh pair (so start-up is measured each round), a 10 s wrk warm-up, the
# max-throughput run and the fixed-rate run; the variant order rotates per round; medians are reported.
# Bounded (every run under a timeout), loopback only, everything started is stopped on exit.
set -euo pipefail

ROUNDS=3 DURATION=10s WARMUP=10s RATE=1000 RATE_CONNECTIONS=16 CONNECTIONS=32 THREADS=2 NMT=0 JFR=0 AOT=0
VARIANTS=() ORIG_ARGS=("$@")
usage() {
  cat <<USAGE
usage: $0 --variant NAME=FLAGS [--variant ...] [options]
  --variant NAME=FLAGS   a variant (at least one); FLAGS may start with VAR=value environment words
  --rounds N             rounds (default $ROUNDS)
  --duration D           each measured run (default $DURATION)
  --warmup D             wrk warm-up after each start (default $WARMUP)
  --rate R               the fixed rate, req/s (default $RATE)
  --nmt                  Native Memory Tracking summary of sidecar B per variant (last round)
  --aot                  also every variant with a JDK 25 AOT cache (variant NAME+aot): per variant and side,
                         a training run first (-XX:AOTCacheOutput: start, 10 s of wrk, 5 s at the fixed rate,
                         SIGTERM, the JVM writes the cache), then measured like the others with -XX:AOTCache
  --jfr                  JFR profile of sidecar B per variant over the max-throughput and fixed-rate runs of
                         the last round: its hottest methods (jfr view hot-methods) are printed
Environment: JAVA, TLS_PROVIDER (auto), RATE_LIMIT (on).
USAGE
}
while (($#)); do
  case $1 in
    --variant) [[ "$2" == *=* ]] || { usage >&2; exit 2; }; VARIANTS+=("$2"); shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --nmt) NMT=1; shift ;;
    --jfr) JFR=1; shift ;;
    --aot) AOT=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
((${#VARIANTS[@]})) || { usage >&2; exit 2; }
[[ "$DURATION" =~ ^[0-9]+s$ && "$WARMUP" =~ ^[0-9]+s$ ]] || { echo "jvm-flags.sh: durations in whole seconds, like 10s" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BACKEND_PORT=18080 LOOPBACK=127.0.0.1
TLS_PROVIDER="${TLS_PROVIDER:-auto}" PAIR_PROTOCOL=auto RATE_LIMIT="${RATE_LIMIT:-on}" HAPROXY_THREADS=2
log() { echo "jvm-flags.sh: $*" >&2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib/pair-lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/measure-lib.sh"

prepare_jvm_bench  # wrk, curl, openssl, JAVA, JCMD, the jars (pair-lib.sh)

work_dir jvm-flags
((NMT)) && VARIANT_EXTRA_FLAGS="-XX:NativeMemoryTracking=summary"
mkdir -p "$WORK/m"

LOAD_BEFORE="$(uptime | sed 's/.*load average/load average/')"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "JDK: $("$JAVA" -version 2>&1 | head -n 1); $LOAD_BEFORE"
"$JAVA" -cp bench/target/benchmarks.jar dev.outrider.bench.load.BenchJwt --jwks "$WORK/jwks.json" --token "$WORK/token.txt"
TOKEN="$(cat "$WORK/token.txt")"
JWT_JWKS_FILE="$WORK/jwks.json"
PAIR_CHECK_HEADER="Authorization: Bearer $TOKEN"
start_backend
issue_certs

# run_variant NAME FLAGS ROUND: a fresh pair with these flags (NAME+aot: and the caches train_aot made for
# NAME), measured; stopped afterwards.
run_variant() {
  local name=$1 flags=$2 r=$3 secs=${DURATION%s} t0 t1 n before_a before_b a_extra="" b_extra=""
  if [[ "$name" == *+aot ]]; then
    a_extra="-XX:AOTCache=$WORK/aot/${name%+aot}.a.aot" b_extra="-XX:AOTCache=$WORK/aot/${name%+aot}.b.aot"
  fi
  t0=$(date +%s%N)
  start_variant_pair "round $r: $name: start" "$flags" "$a_extra" "$b_extra"
  t1=$(date +%s%N)
  put "$name" start_ms "$(( (t1 - t0) / 1000000 ))"
  put "$name" rss_idle "$(awk -v a="$(rss_kib "$A_PID")" -v b="$(rss_kib "$B_PID")" 'BEGIN {printf "%.1f", (a + b) / 2 / 1024}')"
  local url="http://$LOOPBACK:$A_UP/"

  timeout $(( ${WARMUP%s} + 20 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
  local profile=0
  if ((JFR)) && [[ $r == "$ROUNDS" ]]; then
    profile=1
    "$JCMD" "$B_PID" JFR.start name=bench settings=profile filename="$WORK/$name.jfr" >/dev/null
  fi
  before_a=$(cpu_ticks "$A_PID"); before_b=$(cpu_ticks "$B_PID")
  timeout $(( secs + 20 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$name.$r.wrk"
  n=$(awk '/requests in/ {print $1}' "$WORK/$name.$r.wrk")
  put "$name" rps "$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$name.$r.wrk")"
  put "$name" cpu_max "$(per_1k "$(( $(cpu_ticks "$A_PID") - before_a + $(cpu_ticks "$B_PID") - before_b ))" "$n")"
  put "$name" rss_max "$(awk -v a="$(rss_kib "$A_PID")" -v b="$(rss_kib "$B_PID")" 'BEGIN {printf "%.1f", (a + b) / 2 / 1024}')"

  before_a=$(cpu_ticks "$A_PID"); before_b=$(cpu_ticks "$B_PID")
  local sys_before; sys_before=$(sys_ticks "$B_PID")
  gen "$name.$r" "$url" "$RATE" "$DURATION" 2s
  n=$(json "$name.$r" requests_with_warmup)
  put "$name" p99 "$(json "$name.$r" p99_ms)"
  put "$name" errors "$(( $(json "$name.$r" errors) + $(errors_of_file "$WORK/$name.$r.wrk") ))"
  put "$name" cpu_rate "$(per_1k "$(( $(cpu_ticks "$A_PID") - before_a + $(cpu_ticks "$B_PID") - before_b ))" "$n")"
  put "$name" sys_share "$(awk -v s=$(( $(sys_ticks "$B_PID") - sys_before )) -v t=$(( $(cpu_ticks "$B_PID") - before_b )) 'BEGIN {printf "%.0f", t ? 100 * s / t : 0}')"
  if ((profile)); then
    "$JCMD" "$B_PID" JFR.stop name=bench >/dev/null
    "$(dirname "$JAVA")/jfr" view --width 200 hot-methods "$WORK/$name.jfr" >"$WORK/$name.hot" 2>&1 || true
  fi
  put "$name" rss_rate "$(awk -v a="$(rss_kib "$A_PID")" -v b="$(rss_kib "$B_PID")" 'BEGIN {printf "%.1f", (a + b) / 2 / 1024}')"
  if ((NMT)) && [[ $r == "$ROUNDS" ]]; then
    "$JCMD" "$B_PID" VM.native_memory summary scale=MB >"$WORK/$name.nmt" 2>&1 || true
  fi
  stop_pair
}
# System (kernel) clock ticks of a process: stime.
sys_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $13}'; }
# CPU ms per 1,000 requests per sidecar (the pair's ticks halved): TICKS REQUESTS
per_1k() { awk -v d="$1" -v hz="$CLK_TCK" -v n="$2" 'BEGIN {printf "%.2f", d / 2 / hz * 1000 / (n / 1000)}'; }

# train_aot NAME FLAGS: AOT caches for A and B made by a training run of the pair with these flags.
train_aot() {
  local name=$1 url pid
  mkdir -p "$WORK/aot"
  start_variant_pair "AOT training run: $name" "$2" "-XX:AOTCacheOutput=$WORK/aot/$name.a.aot" "-XX:AOTCacheOutput=$WORK/aot/$name.b.aot"
  url="http://$LOOPBACK:$A_UP/"
  timeout 30 wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
  gen "$name.train" "$url" "$RATE" 5s 1s
  # SIGTERM: drain, then the JVM assembles the cache before it exits (seconds; not cut short by stop_pair).
  kill -TERM "$A_PID" "$B_PID"
  for pid in "$A_PID" "$B_PID"; do
    for _ in $(seq 1 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait "$A_PID" "$B_PID" 2>/dev/null || true
  [[ -s "$WORK/aot/$name.a.aot" && -s "$WORK/aot/$name.b.aot" ]] || { tail -n 20 "$WORK"/sidecar-*.out >&2; log "$name: no AOT cache written"; exit 1; }
  log "AOT caches: $(du -h "$WORK/aot/$name.a.aot" "$WORK/aot/$name.b.aot" | awk '{printf "%s %s; ", $2, $1}')"
}
if ((AOT)); then
  for v in "${VARIANTS[@]}"; do
    train_aot "${v%%=*}" "${v#*=}"
  done
  for v in "${VARIANTS[@]}"; do VARIANTS+=("${v%%=*}+aot=${v#*=}"); done
fi

for r in $(seq 1 "$ROUNDS"); do
  for i in "${!VARIANTS[@]}"; do
    v="${VARIANTS[$(( (i + r - 1) % ${#VARIANTS[@]} ))]}"
    run_variant "${v%%=*}" "${v#*=}" "$r"
  done
done
LOAD_AFTER="$(uptime | sed 's/.*load average/load average/')"

echo "## JVM flag variants of the Outrider pair (jvm-flags.sh)"
echo
echo "Command: \`bench/scripts/jvm-flags.sh$(printf " %q" "${ORIG_ARGS[@]}")\`"
echo "Started $STARTED on this machine ($(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)); $("$JAVA" -version 2>&1 | head -n 1)."
echo "Load before: $LOAD_BEFORE; after: $LOAD_AFTER. Rounds $ROUNDS, medians; RSS and CPU are per sidecar (mean of A and B)."
echo
echo "| variant | flags | start → both ready ms | RSS MiB idle | max req/s (wrk) | CPU ms/1k req @max | RSS MiB after max | p99 ms @${RATE}/s | CPU ms/1k req @${RATE}/s | kernel share of B's CPU @${RATE}/s | RSS MiB @${RATE}/s | errors |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for v in "${VARIANTS[@]}"; do
  n="${v%%=*}"
  errs=$(awk '{s += $1} END {print s + 0}' "$WORK/m/$n.errors" 2>/dev/null || echo ?)
  echo "| $n | \`${v#*=}\`$([[ $n == *+aot ]] && echo " + \`-XX:AOTCache\` (trained per side)") | $(fmt "$(median "$n" start_ms)" 0) | $(fmt "$(median "$n" rss_idle)") | $(fmt "$(median "$n" rps)" 0) | $(fmt "$(median "$n" cpu_max)" 2) | $(fmt "$(median "$n" rss_max)") | $(fmt "$(median "$n" p99)" 2) | $(fmt "$(median "$n" cpu_rate)" 2) | $(fmt "$(median "$n" sys_share)" 0) % | $(fmt "$(median "$n" rss_rate)") | $errs |"
done
if ((NMT)); then
  for v in "${VARIANTS[@]}"; do
    n="${v%%=*}"
    echo
    echo "NMT summary of sidecar B, variant $n, after the $RATE req/s run (committed MB per category):"
    echo
    echo '```'
    awk '/^Total:/ || /^-  *[A-Za-z ]+ \(reserved/ {print}' "$WORK/$n.nmt" | sed 's/^-  *//' || true
    echo '```'
  done
fi
if ((JFR)); then
  for v in "${VARIANTS[@]}"; do
    n="${v%%=*}"
    echo
    echo "Hottest methods of sidecar B, variant $n (JFR settings=profile, max-throughput + fixed-rate runs of the last round; Java frames only, kernel and native time not sampled):"
    echo
    echo '```'
    head -n 40 "$WORK/$n.hot" || true
    echo '```'
  done
fi
