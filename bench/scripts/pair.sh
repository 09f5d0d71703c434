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
need_pkg() { # command package
  if ! command -v "$1" >/dev/null 2>&1; then
    log "installing $2"
    apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null
  fi
}
need_pkg wrk wrk
need_pkg curl curl
need_pkg openssl openssl
[[ "$COMPARE" == haproxy ]] && need_pkg haproxy haproxy

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

wait_ready() { # url name [log files to show on failure...]
  for _ in $(seq 1 150); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  log "$2 not ready at $1 after 15 s"
  (($# > 2)) && tail -n 20 "${@:3}" >&2
  exit 1
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

# ---- certificates ---------------------------------------------------------------------------------------
# mesh-ca.sh always writes to certs/out/ (it has no output-directory option): keep an existing CA, reissue
# the two bench leaves. Service accounts are the service names, so the identities the sidecars expect by
# default (spiffe://cluster.local/ns/bench/sa/<service>) are the ones the certificates carry.
CERTS="$ROOT/certs/out/bench"
issue_certs() {
  [[ -f certs/out/ca/ca.pem ]] || certs/mesh-ca.sh init >/dev/null
  certs/mesh-ca.sh issue bench client >/dev/null
  certs/mesh-ca.sh issue bench backend >/dev/null
}
tls_yaml() { # service account
  echo "tls: {mode: mtls, certificate: \"$CERTS/$1/cert.pem\", privateKey: \"$CERTS/$1/key.pem\", trustBundle: \"$CERTS/$1/ca-bundle.pem\", provider: $TLS_PROVIDER}"
}

# check_mtls NAME PORT: B's TLS listener answers a client with a mesh certificate and refuses one without.
# (-k: the workload certificates carry a SPIFFE URI, no IP/DNS name curl could match; what is checked here
# is that B demands the client's certificate.)
check_mtls() {
  local code
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 --cert "$CERTS/client/cert.pem" \
    --key "$CERTS/client/key.pem" "https://$LOOPBACK:$2/" || true)
  [[ "$code" == 200 ]] || { log "$1: request with a client certificate got '$code', expected 200"; exit 1; }
  if curl -sk -o /dev/null --max-time 5 "https://$LOOPBACK:$2/" 2>/dev/null; then
    log "$1: a request WITHOUT a client certificate succeeded: not mTLS"; exit 1
  fi
  MTLS_CHECKS+="$1 (:$2): with client cert 200, without: refused. "
}
MTLS_CHECKS=""

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
policies: {directory: "$WORK/policies"}
$(tls_yaml backend)
YAML
  # Authorization is on, as in production: B lets exactly the client's identity in (the default is deny).
  mkdir -p "$WORK/policies"
  cat >"$WORK/policies/backend.yaml" <<YAML
apiVersion: outrider.dev/v1
kind: AuthorizationPolicy
metadata: {name: allow-client, namespace: bench}
spec:
  selector: {matchLabels: {app: backend}}
  action: ALLOW
  rules: [{from: [{source: {principals: ["cluster.local/ns/bench/sa/client"]}}]}]
YAML
  # Throttling is on too, with limits the load never reaches: per caller and for the whole workload.
  rm -f "$WORK/policies/limits.yaml"
  if [[ "$RATE_LIMIT" == on ]]; then
    cat >"$WORK/policies/limits.yaml" <<YAML
apiVersion: outrider.dev/v1
kind: RateLimitPolicy
metadata: {name: bench-limits, namespace: bench}
spec:
  rules:
    - {name: per-caller, key: source.principal, limit: {requests: 1000000, per: 1s}, maxInFlight: 10000}
    - {name: workload, limit: {requests: 1000000, per: 1s}}
YAML
  fi
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
policies: {defaultAction: deny}
$(tls_yaml client)
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

# B's rate-limit outcomes so far (admitted, refused), summed over rules, from its Prometheus endpoint.
ratelimit_b() {
  curl -sf "http://$LOOPBACK:$B_ADMIN/metrics" \
    | awk '/^outrider_ratelimit_requests_total\{/ { if ($0 ~ /result="admitted"/) ok += $NF; else bad += $NF }
           END { printf "%d rule admissions, %d refusals", ok, bad }'
}

# B's inbound handshakes so far (succeeded, failed), from its Prometheus endpoint.
tls_handshakes_b() {
  curl -sf "http://$LOOPBACK:$B_ADMIN/metrics" \
    | awk '/^outrider_tls_handshakes_total\{/ && /direction="inbound"/ {
             if ($0 ~ /result="success"|outcome="success"|result="succeeded"/) ok += $NF; else bad += $NF }
           END { printf "%d succeeded, %d failed", ok, bad }'
}

# ---- HAProxy pair (--compare haproxy) ---------------------------------------------------------------
# The same topology and certificates: haproxy A takes plain HTTP and originates mTLS (client certificate,
# chain checked against the bundle, ALPN h2 first) to haproxy B, which requires a client certificate and
# forwards plain HTTP/1.1 to the backend. Defaults otherwise (keep-alive, http-reuse safe).
start_haproxy_pair() {
  HB_IN=$(free_port); HB_STATS=$(free_port); HA_UP=$(free_port)
  cat "$CERTS/client/cert.pem" "$CERTS/client/key.pem" >"$WORK/haproxy-a.pem"
  cat "$CERTS/backend/cert.pem" "$CERTS/backend/key.pem" >"$WORK/haproxy-b.pem"
  chmod 600 "$WORK"/haproxy-*.pem
  local common="global
  nbthread $HAPROXY_THREADS
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s"
  cat >"$WORK/haproxy-b.cfg" <<CFG
$common
frontend inbound
  bind $LOOPBACK:$HB_IN ssl crt $WORK/haproxy-b.pem ca-file $CERTS/backend/ca-bundle.pem verify required alpn h2,http/1.1 ssl-min-ver TLSv1.3
  default_backend app
frontend stats
  bind $LOOPBACK:$HB_STATS
  stats enable
  stats uri /stats
backend app
  server app $LOOPBACK:$BACKEND_PORT
CFG
  cat >"$WORK/haproxy-a.cfg" <<CFG
$common
frontend outbound
  bind $LOOPBACK:$HA_UP
  default_backend mesh_b
backend mesh_b
  server b $LOOPBACK:$HB_IN ssl crt $WORK/haproxy-a.pem ca-file $CERTS/client/ca-bundle.pem verify required alpn h2,http/1.1 ssl-min-ver TLSv1.3
CFG
  haproxy -c -q -f "$WORK/haproxy-b.cfg" && haproxy -c -q -f "$WORK/haproxy-a.cfg" || { log "haproxy config invalid"; exit 1; }
  haproxy -db -f "$WORK/haproxy-b.cfg" >"$WORK/haproxy-b.out" 2>&1 &
  HB_PID=$!; PIDS+=("$HB_PID")
  haproxy -db -f "$WORK/haproxy-a.cfg" >"$WORK/haproxy-a.out" 2>&1 &
  HA_PID=$!; PIDS+=("$HA_PID")
  wait_ready "http://$LOOPBACK:$HB_STATS/stats" "haproxy B" "$WORK/haproxy-a.out" "$WORK/haproxy-b.out"
  wait_ready "http://$LOOPBACK:$HA_UP/" "haproxy A → B" "$WORK/haproxy-a.out" "$WORK/haproxy-b.out"
}

# haproxy B's inbound frontend: "connections N, requests N" (CSV fields conn_tot and req_tot).
haproxy_b_counts() {
  curl -sf "http://$LOOPBACK:$HB_STATS/stats;csv" | awk -F, '
    NR == 1 { for (i = 1; i <= NF; i++) { f = $i; sub(/^# /, "", f); col[f] = i } }
    $1 == "inbound" && $2 == "FRONTEND" { printf "connections %s, requests %s", $col["conn_tot"], $col["req_tot"] }'
}

stop_haproxy_pair() {
  kill -TERM "$HA_PID" "$HB_PID" 2>/dev/null || true
  wait "$HA_PID" "$HB_PID" 2>/dev/null || true
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
