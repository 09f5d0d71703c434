#!/usr/bin/env bash
# Sidecar pair throughput and latency on loopback, against the same backend measured directly.
#
#   bench/scripts/pair.sh            # from the repository root (or anywhere; it finds the root)
#
#   direct:      wrk ─▶ BenchBackend 127.0.0.1:18080
#   pair:        wrk ─▶ A upstream port ─▶ B inbound ─▶ BenchBackend      (access log off in both sidecars)
#   pair + log:  the same, with both sidecars writing the JSON access log to a file
#
# Prints a markdown table (requests/s, p50, p99, ratio to direct) and the sidecars' RSS and transport.
# Bounded: each wrk run lasts DURATION (default 15s) under a hard `timeout`; the whole script takes about
# 90 s. Everything it starts is stopped on exit (trap), by process id.
#
# Environment: DURATION (15s), WARMUP (5s), CONNECTIONS (32), THREADS (2), JAVA (a JDK >= 25 java),
#              PAIR_PROTOCOL (protocol A uses towards B: auto | http1 | h2c; default auto).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-5s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PAIR_PROTOCOL="${PAIR_PROTOCOL:-auto}"
BACKEND_PORT=18080
LOOPBACK=127.0.0.1

log() { echo "pair.sh: $*" >&2; }

# ---- tools ---------------------------------------------------------------------------------------------
need_pkg() { # command package
  if ! command -v "$1" >/dev/null 2>&1; then
    log "installing $2"
    apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null
  fi
}
need_pkg wrk wrk
need_pkg curl curl

java_major() {
  "$1" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1
}
find_java() {
  local c
  for c in "${JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV); do
    if [[ -n "$c" && -x "$c" ]] && (( $(java_major "$c" || echo 0) >= 25 )); then
      echo "$c"; return
    fi
  done
  log "no JDK 25 or newer found (set JAVA)"; exit 1
}
JAVA="$(find_java)"

if [[ ! -f proxy/target/outrider-proxy.jar || ! -f bench/target/benchmarks.jar ]]; then
  log "building (./mvnw -B -q -DskipTests package)"
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./mvnw -B -q -DskipTests package
fi
# The launcher rebuilds when a source is newer than the proxy jar. Let it do so now, once, rather than in
# two sidecars starting side by side (two builds in one tree clash) or while the backend runs from the jar.
JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --help >/dev/null

# ---- processes and clean-up ----------------------------------------------------------------------------
WORK="$(mktemp -d /tmp/outrider-pair.XXXXXX)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on now, not handed out before in this run (the listeners bind moments later).
USED_PORTS=" $BACKEND_PORT "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 20000 ))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/$LOOPBACK/$p") 2>/dev/null; then
      USED_PORTS+="$p "; echo "$p"; return
    fi
  done
  log "no free port found"; exit 1
}

wait_ready() { # url name
  for _ in $(seq 1 150); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  log "$2 not ready at $1 after 15 s"; exit 1
}

start_backend() {
  if (exec 3<>"/dev/tcp/$LOOPBACK/$BACKEND_PORT") 2>/dev/null; then
    log "port $BACKEND_PORT is already in use"; exit 1
  fi
  "$JAVA" -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
      dev.outrider.bench.BenchBackend --host "$LOOPBACK" --port "$BACKEND_PORT" >"$WORK/backend.log" 2>&1 &
  PIDS+=($!)
  wait_ready "http://$LOOPBACK:$BACKEND_PORT/" backend
}

# write_configs LOG_ENABLED: sidecar-b.yaml (inbound → backend) and sidecar-a.yaml (upstream port → B).
write_configs() {
  local log_enabled="$1"
  B_IN=$(free_port); B_OUT=$(free_port); B_HEALTH=$(free_port); B_ADMIN=$(free_port)
  A_IN=$(free_port); A_OUT=$(free_port); A_UP=$(free_port); A_HEALTH=$(free_port); A_ADMIN=$(free_port)
  cat >"$WORK/sidecar-b.yaml" <<YAML
node: {service: backend, namespace: bench}
inbound: {listen: "$LOOPBACK:$B_IN", application: "$LOOPBACK:$BACKEND_PORT", applicationProtocol: http1}
outbound: {listen: "$LOOPBACK:$B_OUT"}
health: {listen: "$LOOPBACK:$B_HEALTH"}
admin: {listen: "$LOOPBACK:$B_ADMIN"}
runtime: {drainTimeout: 1s}
accessLog: {enabled: $log_enabled, path: "$WORK/access-b.log"}
YAML
  cat >"$WORK/sidecar-a.yaml" <<YAML
node: {service: client, namespace: bench}
inbound: {listen: "$LOOPBACK:$A_IN", application: "$LOOPBACK:$BACKEND_PORT"}
outbound:
  listen: "$LOOPBACK:$A_OUT"
  upstreams: [{service: backend, port: $A_UP}]
services:
  - {name: backend, namespace: bench, protocol: $PAIR_PROTOCOL, endpoints: ["$LOOPBACK:$B_IN"]}
health: {listen: "$LOOPBACK:$A_HEALTH"}
admin: {listen: "$LOOPBACK:$A_ADMIN"}
runtime: {drainTimeout: 1s}
accessLog: {enabled: $log_enabled, path: "$WORK/access-a.log"}
YAML
}

start_pair() { # LOG_ENABLED
  write_configs "$1"
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --config "$WORK/sidecar-b.yaml" >"$WORK/sidecar-b.out" 2>&1 &
  B_PID=$!; PIDS+=("$B_PID")
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --config "$WORK/sidecar-a.yaml" >"$WORK/sidecar-a.out" 2>&1 &
  A_PID=$!; PIDS+=("$A_PID")
  wait_ready "http://$LOOPBACK:$B_HEALTH/ready" "sidecar B"
  wait_ready "http://$LOOPBACK:$A_HEALTH/ready" "sidecar A"
  curl -sf -o /dev/null "http://$LOOPBACK:$A_UP/" || { log "request through the pair failed"; cat "$WORK"/sidecar-*.out >&2; exit 1; }
}

stop_pair() {
  kill -TERM "$A_PID" "$B_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$A_PID" 2>/dev/null || kill -0 "$B_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$A_PID" "$B_PID" 2>/dev/null || true
  wait "$A_PID" "$B_PID" 2>/dev/null || true
}

# The event-loop transport a process really uses, from its file descriptors (the start-up line prints the
# configured kind, which is "auto" by default).
transport_of() {
  local fds
  fds="$(ls -l "/proc/$1/fd" 2>/dev/null || true)"
  if grep -q 'io_uring' <<<"$fds"; then echo io_uring
  elif grep -q 'eventpoll' <<<"$fds"; then echo epoll
  else echo nio; fi
}
rss_mib() { ps -o rss= -p "$1" | awk '{printf "%.1f", $1 / 1024}'; }

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

log "pair (access log off): warm-up $WARMUP, then $DURATION"
start_pair false
PAIR_TRANSPORT="A $(transport_of "$A_PID"), B $(transport_of "$B_PID")"
run_wrk warm-pair "http://$LOOPBACK:$A_UP/" "$WARMUP"
run_wrk pair "http://$LOOPBACK:$A_UP/" "$DURATION"
RSS_OFF="A $(rss_mib "$A_PID") MiB, B $(rss_mib "$B_PID") MiB"
STARTUP_LINES="$(grep -h 'outrider proxy ready' "$WORK"/sidecar-*.out | sed 's/^.* - //' || true)"
stop_pair

log "pair (access log on, to files): warm-up $WARMUP, then $DURATION"
start_pair true
run_wrk warm-pair-log "http://$LOOPBACK:$A_UP/" "$WARMUP"
run_wrk pair-log "http://$LOOPBACK:$A_UP/" "$DURATION"
RSS_ON="A $(rss_mib "$A_PID") MiB, B $(rss_mib "$B_PID") MiB"
LOG_LINES="A $(wc -l <"$WORK/access-a.log" 2>/dev/null || echo 0), B $(wc -l <"$WORK/access-b.log" 2>/dev/null || echo 0)"
SAMPLE_LINE="$(head -n 1 "$WORK/access-b.log" 2>/dev/null || true)"
stop_pair

# ---- report --------------------------------------------------------------------------------------------
D_RPS=$(rps_of direct); D_P50=$(pct_of direct 50); D_P99=$(pct_of direct 99)
echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up per target); A→B protocol: $PAIR_PROTOCOL"
echo
echo "| run | requests/s | p50 ms | p99 ms | errors | req/s ÷ direct | p50 ÷ direct | p99 ÷ direct |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for run in direct pair pair-log; do
  rps=$(rps_of "$run"); p50=$(pct_of "$run" 50); p99=$(pct_of "$run" 99)
  case "$run" in
    direct) label="direct: wrk → backend" ;;
    pair) label="pair: wrk → A → B → backend (access log off)" ;;
    pair-log) label="pair, access log on (file)" ;;
  esac
  echo "| $label | $rps | $p50 | $p99 | $(errors_of "$run") | $(ratio "$rps" "$D_RPS") | $(ratio "$p50" "$D_P50") | $(ratio "$p99" "$D_P99") |"
done
echo
echo "- transport: backend $BACKEND_TRANSPORT; sidecars $PAIR_TRANSPORT (from /proc/PID/fd)"
echo "- sidecar start-up lines:"
sed 's/^/    /' <<<"$STARTUP_LINES"
echo "- sidecar RSS after the run: access log off: $RSS_OFF; access log on: $RSS_ON"
echo "- access log lines written during the log-on run (incl. warm-up): $LOG_LINES"
[[ -n "$SAMPLE_LINE" ]] && echo "- sample access log line (B): \`$SAMPLE_LINE\`"
if [[ -n "${KEEP_WRK_OUTPUT:-}" ]]; then
  mkdir -p "$KEEP_WRK_OUTPUT" && cp "$WORK"/*.wrk "$KEEP_WRK_OUTPUT"/ && log "wrk output copied to $KEEP_WRK_OUTPUT"
fi
