#!/usr/bin/env bash
# Sidecar pair throughput and latency on loopback, against the same backend measured directly.
#
#   bench/scripts/pair.sh                      # from the repository root (or anywhere; it finds the root)
#   bench/scripts/pair.sh --compare haproxy    # direct, Outrider pair and an HAProxy pair in one run
#
#   direct:       wrk ─▶ BenchBackend 127.0.0.1:18080
#   pair:         wrk ─▶ A upstream port ─▶(mTLS)─▶ B inbound ─▶ BenchBackend   (access log off in both sidecars)
#   pair + log:   the same, with both sidecars writing the JSON access log to a file (default mode only)
#   haproxy pair: wrk ─▶ haproxy A (plain HTTP) ─▶(mTLS)─▶ haproxy B ─▶ BenchBackend   (--compare haproxy only)
#
# mTLS between the two proxies, both kinds, with the same certificates: certs/mesh-ca.sh (which writes to
# certs/out/, git-ignored) makes the dev CA if there is none and (re)issues spiffe://cluster.local/ns/bench/sa/client
# (sidecar A) and .../sa/backend (sidecar B) on every run. Before the load, curl checks that B accepts a
# client certificate from the mesh and refuses a connection without one.
#
# Prints a markdown table (requests/s, p50, p99, ratio to direct; with --compare, Outrider ÷ HAProxy) and the
# sidecars' RSS and transport. Bounded: each wrk run lasts DURATION (default 15s) under a hard `timeout`;
# the whole script takes about 90 s. Everything it starts is stopped on exit (trap), by process id.
#
# Environment: DURATION (15s), WARMUP (5s), CONNECTIONS (32), THREADS (2), JAVA (a JDK >= 25 java),
#              PAIR_PROTOCOL (protocol A uses towards B without TLS: auto | http1 | h2c; default auto; with
#              mTLS ALPN decides, h2 between sidecars), TLS_PROVIDER (auto | openssl | jdk; default auto),
#              HAPROXY_THREADS (nbthread of each HAProxy; default 2, the sidecars' event loops on 2 cores),
#              RATE_LIMIT (on | off; default on: B also enforces a RateLimitPolicy that admits everything, so
#              every request pays for throttling as in production).
set -euo pipefail

COMPARE=""
while (($#)); do
  case $1 in
    --compare) COMPARE=${2:?--compare needs a value (haproxy)}; shift 2 ;;
    *) echo "usage: $0 [--compare haproxy]" >&2; exit 2 ;;
  esac
done
[[ -z "$COMPARE" || "$COMPARE" == haproxy ]] || { echo "pair.sh: --compare supports haproxy only" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-15s}"
RATE_LIMIT="${RATE_LIMIT:-on}"
[[ "$RATE_LIMIT" == on || "$RATE_LIMIT" == off ]] || { echo "pair.sh: RATE_LIMIT is on or off" >&2; exit 2; }
WARMUP="${WARMUP:-5s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PAIR_PROTOCOL="${PAIR_PROTOCOL:-auto}"
TLS_PROVIDER="${TLS_PROVIDER:-auto}"
HAPROXY_THREADS="${HAPROXY_THREADS:-2}"
BACKEND_PORT=18080
LOOPBACK=127.0.0.1

log() { echo "pair.sh: $*" >&2; }

# ---- tools ---------------------------------------------------------------------------------------------
source "$(dirname "${BASH_SOURCE[0]}")/lib/pair-lib.sh"  # need_pkg, find_java, free_port, start_pair, start_haproxy_pair, ...
need_pkg wrk wrk
need_pkg curl curl
need_pkg openssl openssl
[[ "$COMPARE" == haproxy ]] && need_pkg haproxy haproxy

JAVA="$(find_java)"

if [[ ! -f proxy/target/outrider-proxy.jar || ! -f bench/target/benchmarks.jar ]]; then
  log "building (./mvnw -B -q -DskipTests package)"
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./mvnw -B -q -DskipTests package
fi
# The launcher rebuilds when a source is newer than the proxy jar. Let it do so now, once, rather than in
# two sidecars starting side by side (two builds in one tree clash) or while the backend runs from the jar.
JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --help >/dev/null

# ---- processes and clean-up ----------------------------------------------------------------------------
work_dir pair


# ---- load ----------------------------------------------------------------------------------------------
# run_wrk NAME URL DURATION: wrk's output to $WORK/NAME.wrk.
run_wrk() {
  local secs="${3%s}"
  timeout $(( secs + 20 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --latency "$2" >"$WORK/$1.wrk"
}

# Latency printed by wrk (461.00us, 1.97ms, 1.02s, 2.00m) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "?" }'
}
rps_of() { awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/$1.wrk"; }
pct_of() { to_ms "$(awk -v p="$2%" '$1 == p {print $2}' "$WORK/$1.wrk")"; }
errors_of() {
  awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$WORK/$1.wrk"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "?" }'; }

log "JDK: $("$JAVA" -version 2>&1 | head -n 1); wrk $THREADS threads, $CONNECTIONS connections, $DURATION per run"
start_backend
BACKEND_TRANSPORT="$(transport_of "${PIDS[0]}")"

log "direct: warm-up $WARMUP, then $DURATION"
run_wrk warm-direct "http://$LOOPBACK:$BACKEND_PORT/" "$WARMUP"
run_wrk direct "http://$LOOPBACK:$BACKEND_PORT/" "$DURATION"

issue_certs

log "pair (access log off): warm-up $WARMUP, then $DURATION"
start_pair false
check_mtls "Outrider B inbound" "$B_IN"
PAIR_TRANSPORT="A $(transport_of "$A_PID"), B $(transport_of "$B_PID")"
run_wrk warm-pair "http://$LOOPBACK:$A_UP/" "$WARMUP"
run_wrk pair "http://$LOOPBACK:$A_UP/" "$DURATION"
RSS_OFF="A $(rss_mib "$A_PID") MiB, B $(rss_mib "$B_PID") MiB"
STARTUP_LINES="$(grep -h 'outrider proxy ready\|mTLS on' "$WORK"/sidecar-*.out | sed 's/^.* - //' || true)"
B_HANDSHAKES="$(tls_handshakes_b || echo '?')"
B_RATELIMIT="$(ratelimit_b || echo '?')"
stop_pair

if [[ "$COMPARE" == haproxy ]]; then
  RUNS=(direct pair haproxy)
  log "haproxy pair ($(haproxy -v | head -n 1 | awk '{print $3}'), nbthread $HAPROXY_THREADS): warm-up $WARMUP, then $DURATION"
  start_haproxy_pair
  check_mtls "haproxy B" "$HB_IN"
  run_wrk warm-haproxy "http://$LOOPBACK:$HA_UP/" "$WARMUP"
  HB_BEFORE="$(haproxy_b_counts)"
  run_wrk haproxy "http://$LOOPBACK:$HA_UP/" "$DURATION"
  HB_AFTER="$(haproxy_b_counts)"
  RSS_HAPROXY="A $(rss_mib "$HA_PID") MiB, B $(rss_mib "$HB_PID") MiB"
  stop_haproxy_pair
else
  RUNS=(direct pair pair-log)
  log "pair (access log on, to files): warm-up $WARMUP, then $DURATION"
  start_pair true
  run_wrk warm-pair-log "http://$LOOPBACK:$A_UP/" "$WARMUP"
  run_wrk pair-log "http://$LOOPBACK:$A_UP/" "$DURATION"
  RSS_ON="A $(rss_mib "$A_PID") MiB, B $(rss_mib "$B_PID") MiB"
  LOG_LINES="A $(wc -l <"$WORK/access-a.log" 2>/dev/null || echo 0), B $(wc -l <"$WORK/access-b.log" 2>/dev/null || echo 0)"
  SAMPLE_LINE="$(head -n 1 "$WORK/access-b.log" 2>/dev/null || true)"
  stop_pair
fi

# ---- report --------------------------------------------------------------------------------------------
D_RPS=$(rps_of direct); D_P50=$(pct_of direct 50); D_P99=$(pct_of direct 99)
echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up per target); A→B: mTLS (TLS 1.3, ALPN h2), TLS provider $TLS_PROVIDER"
echo
echo "| run | requests/s | p50 ms | p99 ms | errors | req/s ÷ direct | p50 ÷ direct | p99 ÷ direct |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for run in "${RUNS[@]}"; do
  rps=$(rps_of "$run"); p50=$(pct_of "$run" 50); p99=$(pct_of "$run" 99)
  case "$run" in
    direct) label="direct: wrk → backend" ;;
    pair) label="pair: wrk → A → B → backend (access log off)" ;;
    pair-log) label="pair, access log on (file)" ;;
    haproxy) label="HAProxy pair: wrk → haproxy A → haproxy B → backend" ;;
  esac
  echo "| $label | $rps | $p50 | $p99 | $(errors_of "$run") | $(ratio "$rps" "$D_RPS") | $(ratio "$p50" "$D_P50") | $(ratio "$p99" "$D_P99") |"
done
echo
if [[ "$COMPARE" == haproxy ]]; then
  P_RPS=$(rps_of pair); H_RPS=$(rps_of haproxy)
  echo "| Outrider pair ÷ HAProxy pair | requests/s | p50 | p99 |"
  echo "|---|---:|---:|---:|"
  echo "| ratio | $(ratio "$P_RPS" "$H_RPS") | $(ratio "$(pct_of pair 50)" "$(pct_of haproxy 50)") | $(ratio "$(pct_of pair 99)" "$(pct_of haproxy 99)") |"
  echo
fi
echo "- mTLS checks (curl, before the load): $MTLS_CHECKS"
echo "- Outrider B inbound TLS handshakes over the whole pair run (warm-up and the two curl checks included): $B_HANDSHAKES"
echo "- Outrider B throttling (RATE_LIMIT=$RATE_LIMIT) over the whole pair run: $B_RATELIMIT"
if [[ "$COMPARE" == haproxy ]]; then
  echo "- $(haproxy -v | head -n 1); nbthread $HAPROXY_THREADS each"
  echo "- haproxy B inbound frontend (TLS, client certificate required), before / after the measured run: $HB_BEFORE / $HB_AFTER"
  echo "- haproxy RSS after the run: $RSS_HAPROXY"
fi
echo "- transport: backend $BACKEND_TRANSPORT; sidecars $PAIR_TRANSPORT (from /proc/PID/fd)"
echo "- sidecar start-up lines:"
sed 's/^/    /' <<<"$STARTUP_LINES"
if [[ "$COMPARE" == haproxy ]]; then
  echo "- sidecar RSS after the run (access log off): $RSS_OFF"
else
  echo "- sidecar RSS after the run: access log off: $RSS_OFF; access log on: $RSS_ON"
  echo "- access log lines written during the log-on run (incl. warm-up): $LOG_LINES"
  [[ -n "$SAMPLE_LINE" ]] && echo "- sample access log line (B): \`$SAMPLE_LINE\`"
fi
if [[ -n "${KEEP_WRK_OUTPUT:-}" ]]; then
  mkdir -p "$KEEP_WRK_OUTPUT" && cp "$WORK"/*.wrk "$KEEP_WRK_OUTPUT"/ && log "wrk output copied to $KEEP_WRK_OUTPUT"
fi
