# Shared by pair.sh, compare.sh, jvm-flags.sh and overload-memory.sh (sourced, not run): the work directory and its clean-up,
# tools, ports, the backend, the bench certificates, the Outrider and HAProxy pair set-ups. Expects from the
# caller: log(), LOOPBACK, BACKEND_PORT, WORK and PIDS (work_dir sets both), JAVA, TLS_PROVIDER, PAIR_PROTOCOL,
# RATE_LIMIT (on, off, or global with REDIS_URI), HAPROXY_THREADS,
# optionally PAIR_TRANSPORT (the sidecars' runtime.transport; unset: the default, auto) and
# optionally JWT_JWKS_FILE and TRACING_ENDPOINT / TRACING_RATIO (see write_configs).

# ---- work directory and processes ----------------------------------------------------------------------
# work_dir NAME: WORK, a fresh /tmp/outrider-NAME.XXXXXX, and PIDS, the processes to stop. On exit (also after
# Ctrl-C or SIGTERM) every process in PIDS gets SIGTERM, then SIGKILL after 3 s, and WORK is removed.
work_dir() {
  WORK="$(mktemp -d "/tmp/outrider-$1.XXXXXX")"
  PIDS=()
  trap cleanup_work_dir EXIT
  trap 'exit 130' INT TERM
}
cleanup_work_dir() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# ---- tools ---------------------------------------------------------------------------------------------
need_pkg() { # command package
  if ! command -v "$1" >/dev/null 2>&1; then
    log "installing $2"
    apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null
  fi
}

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

# What the JVM-side benchmarks (jvm-flags.sh, overload-memory.sh) need before a pair starts: wrk, curl and
# openssl; JAVA (a JDK >= 25) and JCMD beside it; the packaged jars (built when missing); and the launcher
# checked once, so that a broken build stops here rather than inside a measured run.
prepare_jvm_bench() {
  need_pkg wrk wrk; need_pkg curl curl; need_pkg openssl openssl
  JAVA="$(find_java)"
  if [[ ! -f proxy/target/outrider-proxy.jar || ! -f bench/target/benchmarks.jar ]]; then
    log "building (./mvnw -B -q -DskipTests package)"
    JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./mvnw -B -q -DskipTests package
  fi
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --help >/dev/null
  JCMD="$(dirname "$JAVA")/jcmd"
}

# A port nothing listens on now, not handed out before in this run (the listeners bind moments later), and
# below the kernel's ephemeral range: a port in that range may be the local port of a client connection
# (wrk, the load generator, the pools) by the time the listener binds it.
USED_PORTS=" $BACKEND_PORT "
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
(( EPHEMERAL_LOW > 21000 )) || EPHEMERAL_LOW=32768
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % (EPHEMERAL_LOW - 20000) ))
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
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 ${PAIR_CHECK_HEADER:+-H "$PAIR_CHECK_HEADER"} --cert "$CERTS/client/cert.pem" \
    --key "$CERTS/client/key.pem" "https://$LOOPBACK:$2/" || true)
  [[ "$code" == 200 ]] || { log "$1: request with a client certificate got '$code', expected 200"; exit 1; }
  # Refused = no HTTP answer (handshake failed: Outrider, HAProxy) or a 4xx (nginx answers 400 "No required
  # SSL certificate was sent" over the handshake it completed).
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 5 ${PAIR_CHECK_HEADER:+-H "$PAIR_CHECK_HEADER"} \
    "https://$LOOPBACK:$2/" 2>/dev/null || true)
  if [[ "$code" == 2* ]]; then
    log "$1: a request WITHOUT a client certificate succeeded: not mTLS"; exit 1
  fi
  MTLS_CHECKS+="$1 (:$2): with client cert 200, without: refused ($([[ "$code" == 000 ]] && echo handshake || echo "HTTP $code")). "
}
MTLS_CHECKS=""

# write_configs LOG_ENABLED: sidecar-b.yaml (inbound → backend) and sidecar-a.yaml (upstream port → B).
write_configs() {
  local log_enabled="$1" REQUEST_PRINCIPALS=""
  [[ -n "${JWT_JWKS_FILE:-}" ]] && REQUEST_PRINCIPALS=", requestPrincipals: [\"*\"]"
  B_IN=$(free_port); B_OUT=$(free_port); B_HEALTH=$(free_port); B_ADMIN=$(free_port)
  A_IN=$(free_port); A_OUT=$(free_port); A_UP=$(free_port); A_HEALTH=$(free_port); A_ADMIN=$(free_port)
  cat >"$WORK/sidecar-b.yaml" <<YAML
node: {service: backend, namespace: bench}
inbound: {listen: "$LOOPBACK:$B_IN", application: "$LOOPBACK:$BACKEND_PORT", applicationProtocol: http1}
outbound: {listen: "$LOOPBACK:$B_OUT"}
health: {listen: "$LOOPBACK:$B_HEALTH"}
admin: {listen: "$LOOPBACK:$B_ADMIN"}
runtime: {drainTimeout: 1s${PAIR_TRANSPORT:+, transport: $PAIR_TRANSPORT}}
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
  rules: [{from: [{source: {principals: ["cluster.local/ns/bench/sa/client"]$REQUEST_PRINCIPALS}}]}]
YAML
  # With JWT_JWKS_FILE (a JWK Set, one line of JSON): B also authenticates end users, and the ALLOW rule above
  # asks for a verified token (requestPrincipals), so every request pays for JWT verification.
  rm -f "$WORK/policies/jwt.yaml"
  if [[ -n "${JWT_JWKS_FILE:-}" ]]; then
    cat >"$WORK/policies/jwt.yaml" <<YAML
apiVersion: outrider.dev/v1
kind: RequestAuthentication
metadata: {name: bench-jwt, namespace: bench}
spec:
  selector: {matchLabels: {app: backend}}
  jwtRules:
    - issuer: ${JWT_ISSUER:-https://issuer.bench.outrider.dev}
      audiences: [backend]
      jwks: '$(cat "$JWT_JWKS_FILE")'
YAML
  fi
  # Throttling is on too, with limits the load never reaches: per caller and for the whole workload.
  # RATE_LIMIT=global: the same rules with scope: global, their budgets in the Redis at REDIS_URI.
  rm -f "$WORK/policies/limits.yaml"
  if [[ "$RATE_LIMIT" == on || "$RATE_LIMIT" == global ]]; then
    local scope=""
    [[ "$RATE_LIMIT" == global ]] && scope=", scope: global"
    cat >"$WORK/policies/limits.yaml" <<YAML
apiVersion: outrider.dev/v1
kind: RateLimitPolicy
metadata: {name: bench-limits, namespace: bench}
spec:
  rules:
    - {name: per-caller, key: source.principal, limit: {requests: 1000000, per: 1s}, maxInFlight: 10000$scope}
    - {name: workload, limit: {requests: 1000000, per: 1s}$scope}
YAML
  fi
  if [[ "$RATE_LIMIT" == global ]]; then
    [[ -n "${REDIS_URI:-}" ]] || { log "RATE_LIMIT=global needs REDIS_URI"; exit 2; }
    echo "rateLimits: {redis: {uri: \"$REDIS_URI\"}}" >>"$WORK/sidecar-b.yaml"
  fi
  # TRACING_ENDPOINT (an OTLP/HTTP traces URL): both sidecars trace, sampling TRACING_RATIO (default 0.01).
  local tracing=""
  if [[ -n "${TRACING_ENDPOINT:-}" ]]; then
    tracing="tracing: {enabled: true, endpoint: \"$TRACING_ENDPOINT\", samplingRatio: ${TRACING_RATIO:-0.01}}"
    echo "$tracing" >>"$WORK/sidecar-b.yaml"
  fi
  cat >"$WORK/sidecar-a.yaml" <<YAML
$tracing
node: {service: client, namespace: bench}
inbound: {listen: "$LOOPBACK:$A_IN", application: "$LOOPBACK:$BACKEND_PORT"}
outbound:
  listen: "$LOOPBACK:$A_OUT"
  upstreams: [{service: backend, port: $A_UP}]
services:
  - {name: backend, namespace: bench, protocol: $PAIR_PROTOCOL, endpoints: ["$LOOPBACK:$B_IN"]}
health: {listen: "$LOOPBACK:$A_HEALTH"}
admin: {listen: "$LOOPBACK:$A_ADMIN"}
runtime: {drainTimeout: 1s${PAIR_TRANSPORT:+, transport: $PAIR_TRANSPORT}}
accessLog: {enabled: $log_enabled, path: "$WORK/access-a.log"}
policies: {defaultAction: deny}
$(tls_yaml client)
YAML
}

# start_pair LOG_ENABLED: B, then A, both through ./outrider (OUTRIDER_JAVA_OPTS as exported by the caller;
# PAIR_LAUNCHER: another checkout's launcher instead, e.g. the commit before a change).
# A_JAVA_OPTS_EXTRA / B_JAVA_OPTS_EXTRA: flags added for one side only (jvm-flags.sh: per-side AOT caches);
# only with OUTRIDER_JAVA_OPTS set, since they would otherwise replace the launcher's defaults.
start_pair() {
  write_configs "$1"
  OUTRIDER_JAVA_OPTS="${OUTRIDER_JAVA_OPTS:-}${OUTRIDER_JAVA_OPTS:+${B_JAVA_OPTS_EXTRA:+ $B_JAVA_OPTS_EXTRA}}" \
    JAVA_HOME="$(dirname "$(dirname "$JAVA")")" "${PAIR_LAUNCHER:-./outrider}" proxy --config "$WORK/sidecar-b.yaml" >"$WORK/sidecar-b.out" 2>&1 &
  B_PID=$!; PIDS+=("$B_PID")
  OUTRIDER_JAVA_OPTS="${OUTRIDER_JAVA_OPTS:-}${OUTRIDER_JAVA_OPTS:+${A_JAVA_OPTS_EXTRA:+ $A_JAVA_OPTS_EXTRA}}" \
    JAVA_HOME="$(dirname "$(dirname "$JAVA")")" "${PAIR_LAUNCHER:-./outrider}" proxy --config "$WORK/sidecar-a.yaml" >"$WORK/sidecar-a.out" 2>&1 &
  A_PID=$!; PIDS+=("$A_PID")
  wait_ready "http://$LOOPBACK:$B_HEALTH/ready" "sidecar B" "$WORK/sidecar-b.out"
  wait_ready "http://$LOOPBACK:$A_HEALTH/ready" "sidecar A" "$WORK/sidecar-a.out"
  curl -sf -o /dev/null ${PAIR_CHECK_HEADER:+-H "$PAIR_CHECK_HEADER"} "http://$LOOPBACK:$A_UP/" || { log "request through the pair failed"; cat "$WORK"/sidecar-*.out >&2; exit 1; }
}

# start_variant_pair LABEL FLAGS [A_EXTRA B_EXTRA]: start_pair with FLAGS as both sidecars' JVM flags and
# A_EXTRA / B_EXTRA added for one side each. Leading VAR=value words of FLAGS go into the sidecars'
# environment instead, exported only while they start, so the load generators do not inherit them;
# VARIANT_EXTRA_FLAGS (e.g. -XX:NativeMemoryTracking=summary) is added to every variant. (jvm-flags.sh,
# overload-memory.sh)
start_variant_pair() {
  local words word envs=() flags=""
  read -r -a words <<<"$2"
  for word in "${words[@]}"; do
    if [[ -z "$flags" && "$word" =~ ^[A-Z_][A-Z0-9_]*= ]]; then envs+=("$word"); else flags+="${flags:+ }$word"; fi
  done
  flags+="${VARIANT_EXTRA_FLAGS:+ $VARIANT_EXTRA_FLAGS}"
  log "$1 (${envs[*]:+${envs[*]} }$flags)"
  for word in "${envs[@]}"; do export "${word?}"; done
  export OUTRIDER_JAVA_OPTS="$flags" A_JAVA_OPTS_EXTRA="${3:-}" B_JAVA_OPTS_EXTRA="${4:-}"
  start_pair false
  unset OUTRIDER_JAVA_OPTS A_JAVA_OPTS_EXTRA B_JAVA_OPTS_EXTRA
  for word in "${envs[@]}"; do unset "${word%%=*}"; done
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
# chain checked against the bundle) to haproxy B, which requires a client certificate and forwards plain
# HTTP/1.1 to the backend. Defaults otherwise (keep-alive, http-reuse safe). haproxy A also takes h2c with
# prior knowledge on HA_H2 (compare.sh's HTTP/2 client case). Between A and B it speaks what Outrider's pair
# speaks by default (services[].protocol auto): HTTP/1.1 for HTTP/1.1 clients (ALPN http/1.1), h2 for HTTP/2
# clients (ALPN h2); HAPROXY_MESH=h2 makes it h2 for both (the Outrider pair's protocol: h2c).
start_haproxy_pair() {
  HB_IN=$(free_port); HB_STATS=$(free_port); HA_UP=$(free_port); HA_H2=$(free_port)
  local h1_alpn=http/1.1
  [[ "${HAPROXY_MESH:-follow}" == h2 ]] && h1_alpn=h2
  cat "$CERTS/client/cert.pem" "$CERTS/client/key.pem" >"$WORK/haproxy-a.pem"
  cat "$CERTS/backend/cert.pem" "$CERTS/backend/key.pem" >"$WORK/haproxy-b.pem"
  chmod 600 "$WORK"/haproxy-*.pem
  local common="global
  nbthread $HAPROXY_THREADS
  maxconn 4096
defaults
  mode http
  maxconn 4096
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
  default_backend mesh_b_h1
frontend outbound_h2
  bind $LOOPBACK:$HA_H2 proto h2
  default_backend mesh_b_h2
backend mesh_b_h1
  server b $LOOPBACK:$HB_IN ssl crt $WORK/haproxy-a.pem ca-file $CERTS/client/ca-bundle.pem verify required alpn $h1_alpn ssl-min-ver TLSv1.3
backend mesh_b_h2
  server b $LOOPBACK:$HB_IN ssl crt $WORK/haproxy-a.pem ca-file $CERTS/client/ca-bundle.pem verify required alpn h2 ssl-min-ver TLSv1.3
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
