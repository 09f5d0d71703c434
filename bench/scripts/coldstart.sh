#!/usr/bin/env bash
# Cold start under load: a fresh Outrider pair sent 1,000 req/s from the moment both sidecars are ready, against
# the same pair once warm. What a pod that has just turned ready serves in its first seconds.
#
#   bench/scripts/coldstart.sh                           # 3 rounds of each variant, 60 s cold + 20 s warm
#   bench/scripts/coldstart.sh --rounds 5 --variants "aot noaot"
#
# Per round and variant: compare.sh's pair (mTLS, JWT + ALLOW policy + rate limit on B) is started through
# ./outrider with both sidecars at once. Meanwhile the load generator warms its own JVM on the backend itself
# (the same open-loop load) and polls both sidecars' /ready every 5 ms; the moment both answer 200 it switches
# to the pair: LoadGenerator --rate 1000 -c 16 for --duration, no warm-up, latency from each request's intended
# start (coordinated omission corrected), reported per 10 s interval by completion time. Right after, a warm run
# of the same pair: 20 s after a 2 s warm-up. Then the pair is stopped and the next one starts from scratch.
#   variants: aot    the launcher's default: the sidecar's AOT cache (classes and method profiles of a training
#                    run, trained once for these jars and flags before round 1; not timed)
#             noaot  OUTRIDER_AOT=off: the same JVM without a cache
# Reported (medians over rounds): start → both ready, p50/p99/max of the first interval (--interval, 10 s) and of
# the whole cold run (each interval's line is kept in the work directory's *.cold files),
# the warm p99, and first-minute p99 ÷ warm p99 (issue 19's target: ≤ 10).
# Bounded: every run has a duration and a timeout; loopback only; everything started is stopped on exit.
set -euo pipefail

ROUNDS=3 DURATION=60s WARM=20s RATE=1000 RATE_CONNECTIONS=16 VARIANTS="aot noaot" INTERVAL=10s
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warm) WARM=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "coldstart.sh: unknown option $1 (--rounds N --duration D --warm D --rate R --variants \"aot noaot\" --interval D)" >&2; exit 2 ;;
  esac
done
for v in $VARIANTS; do [[ $v == aot || $v == noaot ]] || { echo "coldstart.sh: variants are aot and noaot, not $v" >&2; exit 2; }; done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BACKEND_PORT=18080 LOOPBACK=127.0.0.1
TLS_PROVIDER="${TLS_PROVIDER:-auto}" PAIR_PROTOCOL=auto RATE_LIMIT=on
log() { echo "coldstart.sh: $*" >&2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib/pair-lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/measure-lib.sh"
prepare_jvm_bench
work_dir coldstart
mkdir -p "$WORK/m"
"$JAVA" -cp bench/target/benchmarks.jar dev.outrider.bench.load.BenchJwt --jwks "$WORK/jwks.json" --token "$WORK/token.txt"
TOKEN="$(cat "$WORK/token.txt")"
JWT_JWKS_FILE="$WORK/jwks.json"
start_backend
issue_certs
# The AOT cache for the default flags, trained now if missing (./outrider does it once per build), not in a round.
JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --help >/dev/null
LOAD_BEFORE="$(uptime | sed 's/.*load average/load average/')"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
secs=${DURATION%s}

one_round() { # variant round
  local v=$1 r=$2 aot=auto out="$WORK/$1.$2"
  [[ $v == noaot ]] && aot=off
  write_configs false
  timeout $((secs + 120)) "$JAVA" -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
    dev.outrider.bench.load.LoadGenerator --url "http://$LOOPBACK:$A_UP/" -c "$RATE_CONNECTIONS" --rate "$RATE" \
    --duration "$DURATION" --warmup 0 --interval "$INTERVAL" --prewarm-url "http://$LOOPBACK:$BACKEND_PORT/" \
    --until-ready "http://$LOOPBACK:$B_HEALTH/ready" --until-ready "http://$LOOPBACK:$A_HEALTH/ready" \
    -H "Authorization: Bearer $TOKEN" --label "$v.$r" >"$out.cold" 2>&1 &
  local gen=$!
  sleep 1 # the generator is running (and warming) before the sidecars start
  local t0; t0=$(date +%s%N)
  OUTRIDER_AOT=$aot JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --config "$WORK/sidecar-b.yaml" >"$out.b.log" 2>&1 &
  B_PID=$!; PIDS+=("$B_PID")
  OUTRIDER_AOT=$aot JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --config "$WORK/sidecar-a.yaml" >"$out.a.log" 2>&1 &
  A_PID=$!; PIDS+=("$A_PID")
  local ready_ms=""
  for _ in $(seq 1 3000); do
    if curl -sf -o /dev/null "http://$LOOPBACK:$B_HEALTH/ready" && curl -sf -o /dev/null "http://$LOOPBACK:$A_HEALTH/ready"; then
      ready_ms=$(( ($(date +%s%N) - t0) / 1000000 )); break
    fi
    sleep 0.005
  done
  [[ -n $ready_ms ]] || { tail -n 20 "$out.b.log" "$out.a.log" >&2; log "$v round $r: the pair was not ready in 15 s"; exit 1; }
  wait "$gen" || { cat "$out.cold" >&2; log "$v round $r: the cold run failed"; exit 1; }
  grep -q '^RESULT ' "$out.cold" || { cat "$out.cold" >&2; exit 1; }
  put "$v" ready_ms "$ready_ms"
  awk '/^INTERVAL / {sub(/^INTERVAL /, ""); print}' "$out.cold" | head -n 1 >"$WORK/first.json"
  if [[ -n "${SHOW_INTERVALS:-}" ]]; then grep "^INTERVAL " "$out.cold" >&2; fi
  grep '^RESULT ' "$out.cold" | sed 's/^RESULT //' >"$WORK/cold.json"
  local f
  for f in p50_ms p99_ms max_ms; do
    put "$v" "first10_$f" "$(json first "$f")"
    put "$v" "cold_$f" "$(json cold "$f")"
  done
  put "$v" cold_errors "$(( $(json cold errors) + $(json cold dropped) ))"
  gen "$v.$r.warm" "http://$LOOPBACK:$A_UP/" "$RATE" "$WARM" 2s
  put "$v" warm_p99_ms "$(json "$v.$r.warm" p99_ms)"
  put "$v" rss_a "$(rss_mib_of "$A_PID")"; put "$v" rss_b "$(rss_mib_of "$B_PID")"
  log "$v round $r: ready in $ready_ms ms; first $INTERVAL p99 $(tail -n 1 "$WORK/m/$v.first10_p99_ms"); cold p99 $(tail -n 1 "$WORK/m/$v.cold_p99_ms"); warm p99 $(tail -n 1 "$WORK/m/$v.warm_p99_ms")"
  stop_pair
}

for r in $(seq 1 "$ROUNDS"); do
  for v in $VARIANTS; do one_round "$v" "$r"; done
done

echo "Command: \`bench/scripts/coldstart.sh --rounds $ROUNDS --duration $DURATION --warm $WARM --variants \"$VARIANTS\"\` (started $STARTED, $LOAD_BEFORE; after: $(uptime | sed 's/.*load average/load average/'); $("$JAVA" -version 2>&1 | head -n 1); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) vCPU)"
echo
echo "| variant | start → both ready ms | first $INTERVAL p50 / p99 / max ms | first $DURATION p99 / max ms | warm p99 ms | first-minute p99 ÷ warm p99 | errors (cold) | RSS A / B MiB after |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for v in $VARIANTS; do
  warm=$(median "$v" warm_p99_ms); cold=$(median "$v" cold_p99_ms)
  echo "| $v | $(fmt "$(median "$v" ready_ms)" 0) | $(fmt "$(median "$v" first10_p50_ms)" 2) / $(fmt "$(median "$v" first10_p99_ms)" 1) / $(fmt "$(median "$v" first10_max_ms)" 1) | $(fmt "$cold" 1) / $(fmt "$(median "$v" cold_max_ms)" 1) | $(fmt "$warm" 3) | $(awk -v c="$cold" -v w="$warm" 'BEGIN {printf "%.0f×", c / w}') | $(awk '{s += $1} END {print s + 0}' "$WORK/m/$v.cold_errors") | $(fmt "$(median "$v" rss_a)") / $(fmt "$(median "$v" rss_b)") |"
done
echo
for v in $VARIANTS; do
  echo "- $v per round, first $INTERVAL p99 ms: $(tr '\n' ' ' <"$WORK/m/$v.first10_p99_ms"); cold p99: $(tr '\n' ' ' <"$WORK/m/$v.cold_p99_ms"); warm p99: $(tr '\n' ' ' <"$WORK/m/$v.warm_p99_ms"); ready ms: $(tr '\n' ' ' <"$WORK/m/$v.ready_ms")"
done
