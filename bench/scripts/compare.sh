#!/usr/bin/env bash
# Outrider pair vs HAProxy pair vs nginx pair (all mTLS) vs direct, in one run on this machine.
#
#   bench/scripts/compare.sh                       # 3 rounds, 10 s per measurement, every case (about 17 minutes)
#   bench/scripts/compare.sh --rounds 5 --duration 20s --no-results
#   bench/scripts/compare.sh --cases "base h2" --rounds 1 --duration 3s --no-results   # a quick look
#
#   direct:   client ─▶ BenchBackend 127.0.0.1:18080
#   outrider: client ─▶ A upstream port ─▶(mTLS)─▶ B inbound [JWT + ALLOW policy + RateLimitPolicy] ─▶ backend
#   haproxy:  client ─▶ haproxy A ─▶(mTLS)─▶ haproxy B ─▶ backend
#   Between A and B both speak the client's protocol (Outrider's default, services[].protocol auto):
#   HTTP/1.1 over pooled keep-alive connections (ALPN http/1.1) for HTTP/1.1 clients, h2 for HTTP/2 clients.
#   Variant targets (not in the default list), each a second pair with one setting changed:
#   outrider-h2 (protocol h2c: h2 between the sidecars for every client), outrider-epoll (runtime.transport
#   epoll; the default, auto, picks io_uring where the kernel allows it), outrider-unsafe (the sidecars' JVM flags without
#   --sun-misc-unsafe-memory-access=allow: Netty on JDK 25 then uses no sun.misc.Unsafe), outrider-flags (the
#   sidecars' JVM flags plus VARIANT_FLAGS from the environment, e.g. VARIANT_FLAGS="-Dio.netty.leakDetection.level=simple"),
#   haproxy-h2 (h2 between the proxies for every client, like outrider-h2), outrider-at (the pair from another
#   checkout's ./outrider, OUTRIDER_AT=DIR, e.g. a worktree at the commit before a change: before and after in one run),
#   outrider-global (B's two rate-limit rules with scope: global, their budgets in a redis-server on loopback
#   that this script starts: B spends leases of tokens from Redis, refilled in the background), outrider-tracing
#   (both sidecars trace at TRACING_RATIO, default 0.01, exporting over OTLP/HTTP to the backend, which answers
#   200 to any POST: the spans' cost in the sidecars, not a collector's).
#   nginx:    client ─▶ nginx A ─▶(mTLS, HTTP/1.1, upstream keepalive)─▶ nginx B ─▶ backend
#
# Before round 1 every target gets a first, unmeasured warm-up (--first-warmup, 15 s of wrk; and of h2load
# when the h2 case runs), so that the first round does not catch a JVM's JIT still compiling. Per round, case
# by case (--cases), every target in turn (the order of targets rotates every round; medians over the
# rounds are reported):
#   base  (1) maximum throughput: wrk -t2 -c32 (keep-alive, 64-byte body) after a warm-up; (2) latency at a
#         fixed rate: LoadGenerator open loop, 1,000 req/s on 16 connections, latency from the intended start
#         (coordinated omission corrected); RSS idle and after the fixed-rate run.
#   1k    maximum throughput, wrk -t2 -c32, 1 KiB response body (BenchBackend's /1k).
#   64k   maximum throughput, wrk -t2 -c32, 64 KiB response body (/64k).
#   c256  maximum throughput, wrk -t2 -c256, 64-byte body.
#   h2    maximum throughput of an HTTP/2 client: h2load -c 8 -m 16 -t 2 (h2c, prior knowledge), 64-byte body,
#         against each target's h2 front: the backend itself (direct), Outrider A's upstream port (it detects
#         h2c prior knowledge), haproxy A's second bind (proto h2), nginx A's second listen (http2, plaintext).
#         Between the proxies each pair speaks what it speaks in the other cases. p99 from h2load's per-request
#         log (--log-file; requests of the measured duration only).
# Every max-throughput run reports per proxy process CPU seconds (utime+stime from /proc/PID/stat) over the
# measured run divided by the requests served, and RSS (VmRSS from /proc/PID/status; nginx: master + workers)
# right after it. Every client sends the same request, with "Authorization: Bearer <ES256 token>" (only
# Outrider B checks it).
#
# Peers in their best configuration for each job, not Outrider's: 256 connections fit every limit
# (Outrider's defaults: 4096 per listener, 1024 per peer identity; haproxy maxconn 4096; nginx
# worker_connections 4096 and 256 idle upstream keep-alive connections per worker, so that c256 does not
# churn TLS connections); nginx keeps a 64 KiB response in memory (proxy_buffers 16 8k) instead of a temp file.
#
# Bounded: each measurement lasts --duration under a hard timeout; everything started is stopped on exit,
# by process id. Loopback only. Installs wrk, curl, openssl, haproxy, nginx and (for h2) nghttp2-client with
# apt-get when missing. Writes the report to stdout and (unless --no-results) into bench/RESULTS.md between
# the compare.sh markers.
set -euo pipefail

ROUNDS=3 DURATION=10s WARMUP=3s FIRST_WARMUP=15s RATE=1000 RATE_CONNECTIONS=16 CONNECTIONS=32 THREADS=2
TARGETS="direct outrider haproxy nginx" WRITE_RESULTS=1
ALL_CASES="base 1k 64k c256 h2" CASES="base 1k 64k c256 h2" WIDE_CONNECTIONS=256
H2_CLIENTS="${H2LOAD_CLIENTS:-8}" H2_STREAMS="${H2LOAD_STREAMS:-16}" H2_THREADS=2
usage() {
  cat <<USAGE
usage: $0 [options]
  --rounds N             rounds; targets alternate within each (default $ROUNDS)
  --duration D           each measured run, seconds with an s (default $DURATION)
  --warmup D             warm-up before each max-throughput run (default $WARMUP)
  --first-warmup D       once per target before round 1, so the JVMs' JIT is warm (default $FIRST_WARMUP; 0s: none)
  --rate R               the fixed rate of the latency run, req/s (default $RATE)
  --rate-connections N   connections of the fixed-rate run (default $RATE_CONNECTIONS)
  --connections N        wrk connections for max throughput (default $CONNECTIONS; threads $THREADS)
  --targets "LIST"       subset/order of: direct outrider haproxy nginx (default) and the variants
                         outrider-h2 outrider-epoll outrider-unsafe outrider-flags outrider-at outrider-global outrider-tracing
                         haproxy-h2
  --cases "LIST"         subset/order of: $ALL_CASES (default all)
                           base: wrk -c$CONNECTIONS 64-byte body + the fixed-rate run; 1k, 64k: response bodies of
                           1 KiB / 64 KiB (wrk -c$CONNECTIONS); c256: wrk -c$WIDE_CONNECTIONS; h2: h2load -c $H2_CLIENTS -m $H2_STREAMS -t $H2_THREADS (h2c)
  --no-results           do not touch bench/RESULTS.md
Environment: JAVA, TLS_PROVIDER (auto), HAPROXY_THREADS (2), NGINX_WORKERS (2), RATE_LIMIT (on),
  H2LOAD_CLIENTS (8), H2LOAD_STREAMS (16).
USAGE
}
COMMAND="bench/scripts/compare.sh${*:+ $*}"  # before the options are shifted away, for the report
ORIG_ARGS="$(printf ' %q' "$0" "$@")"
while (($#)); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --first-warmup) FIRST_WARMUP=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --rate-connections) RATE_CONNECTIONS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --cases) CASES=$2; shift 2 ;;
    --no-results) WRITE_RESULTS=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ "$DURATION" =~ ^[0-9]+s$ && "$WARMUP" =~ ^[0-9]+s$ && "$FIRST_WARMUP" =~ ^[0-9]+s$ ]] || { echo "compare.sh: durations in whole seconds, like 10s" >&2; exit 2; }
for c in $CASES; do
  [[ " $ALL_CASES " == *" $c "* ]] || { echo "compare.sh: unknown case '$c' (cases: $ALL_CASES)" >&2; exit 2; }
done
[[ -n "${CASES// /}" ]] || { echo "compare.sh: --cases is empty" >&2; exit 2; }
[[ "$H2_CLIENTS $H2_STREAMS" =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]] || { echo "compare.sh: H2LOAD_CLIENTS and H2LOAD_STREAMS must be positive integers" >&2; exit 2; }
has_case() { [[ " $CASES " == *" $1 "* ]]; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BACKEND_PORT=18080 LOOPBACK=127.0.0.1
TLS_PROVIDER="${TLS_PROVIDER:-auto}" PAIR_PROTOCOL="${PAIR_PROTOCOL:-auto}" RATE_LIMIT="${RATE_LIMIT:-on}"
HAPROXY_THREADS="${HAPROXY_THREADS:-2}" NGINX_WORKERS="${NGINX_WORKERS:-2}"
log() { echo "compare.sh: $*" >&2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib/pair-lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/measure-lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/wide-cases.sh"

need_pkg wrk wrk; need_pkg curl curl; need_pkg openssl openssl
need_pkg haproxy haproxy; need_pkg nginx nginx-light
if has_case h2; then need_pkg h2load nghttp2-client; fi
JAVA="$(find_java)"
if [[ ! -f proxy/target/outrider-proxy.jar || ! -f bench/target/benchmarks.jar ]]; then
  log "building (./mvnw -B -q -DskipTests package)"
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./mvnw -B -q -DskipTests package
fi
JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --help >/dev/null

work_dir compare
mkdir -p "$WORK/m"

# ---- nginx pair -----------------------------------------------------------------------------------------
# nginx A takes plain HTTP and proxies over mTLS (client certificate, proxy_ssl_verify against the bundle,
# name = B's certificate CN since it has no DNS SAN) with upstream keep-alive to nginx B, which requires a
# client certificate (ssl_verify_client on) and proxies to the backend with keep-alive. TLS 1.3 only.
# nginx's proxy speaks HTTP/1.1 upstream (no h2 between A and B, unlike Outrider and HAProxy). For the wider
# cases: up to 256 idle upstream keep-alive connections per worker (c256 would otherwise close and reopen TLS
# connections), and response buffers that hold a 64 KiB body (the default 8 × 4k would write part of it to a
# temp file when the client reads slower than the upstream sends). A also listens for h2c with prior
# knowledge on NA_H2 (nginx 1.22: a plaintext "listen ... http2" speaks HTTP/2 only), same location.
start_nginx_pair() {
  NB_IN=$(free_port); NA_UP=$(free_port); NA_H2=$(free_port)
  local common="worker_processes $NGINX_WORKERS;
daemon off;
master_process on;
user root;
events { worker_connections 4096; }"
  mkdir -p "$WORK/nginx-a" "$WORK/nginx-b"
  cat >"$WORK/nginx-b/nginx.conf" <<CFG
$common
pid $WORK/nginx-b/nginx.pid;
error_log $WORK/nginx-b/error.log warn;
http {
  access_log off;
  keepalive_requests 1000000;
  proxy_buffers 16 8k;
  upstream app { server $LOOPBACK:$BACKEND_PORT; keepalive 256; keepalive_requests 1000000; }
  server {
    listen $LOOPBACK:$NB_IN ssl;
    ssl_certificate $CERTS/backend/cert.pem;
    ssl_certificate_key $CERTS/backend/key.pem;
    ssl_client_certificate $CERTS/backend/ca-bundle.pem;
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CFG
  cat >"$WORK/nginx-a/nginx.conf" <<CFG
$common
pid $WORK/nginx-a/nginx.pid;
error_log $WORK/nginx-a/error.log warn;
http {
  access_log off;
  keepalive_requests 1000000;
  proxy_buffers 16 8k;
  upstream b { server $LOOPBACK:$NB_IN; keepalive 256; keepalive_requests 1000000; }
  server {
    listen $LOOPBACK:$NA_UP;
    listen $LOOPBACK:$NA_H2 http2;
    location / {
      proxy_pass https://b;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_certificate $CERTS/client/cert.pem;
      proxy_ssl_certificate_key $CERTS/client/key.pem;
      proxy_ssl_trusted_certificate $CERTS/client/ca-bundle.pem;
      proxy_ssl_verify on;
      proxy_ssl_name backend.bench;
      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_session_reuse on;
    }
  }
}
CFG
  local side
  for side in a b; do
    nginx -t -q -p "$WORK/nginx-$side" -c "$WORK/nginx-$side/nginx.conf" 2>"$WORK/nginx-$side/t.err" \
      || { cat "$WORK/nginx-$side/t.err" >&2; log "nginx $side config invalid"; exit 1; }
  done
  nginx -p "$WORK/nginx-b" -c "$WORK/nginx-b/nginx.conf" >"$WORK/nginx-b.out" 2>&1 &
  NB_PID=$!; PIDS+=("$NB_PID")
  nginx -p "$WORK/nginx-a" -c "$WORK/nginx-a/nginx.conf" >"$WORK/nginx-a.out" 2>&1 &
  NA_PID=$!; PIDS+=("$NA_PID")
  sleep 0.3
  wait_ready "http://$LOOPBACK:$NA_UP/" "nginx A → B" "$WORK/nginx-a/error.log" "$WORK/nginx-b/error.log"
}

# measure TARGET ROUND
measure() {
  local t=$1 r=$2 url=${URL[$1]} side pid secs=${DURATION%s}
  declare -A before
  log "round $r: $t: max throughput (wrk -t$THREADS -c$CONNECTIONS, warm-up $WARMUP, $DURATION)"
  timeout $(( ${WARMUP%s} + 20 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
  for side in ${SIDES[$t]}; do before[$side]=$(cpu_ticks "${!side}"); done
  timeout $(( secs + 20 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$t.$r.wrk"
  local n; n=$(awk '/requests in/ {print $1}' "$WORK/$t.$r.wrk")
  put "$t" rps "$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$t.$r.wrk")"
  put "$t" wrk_p99 "$(to_ms "$(awk '$1 == "99%" {print $2}' "$WORK/$t.$r.wrk")")"
  put "$t" wrk_errors "$(errors_of_file "$WORK/$t.$r.wrk")"
  for side in ${SIDES[$t]}; do
    put "$t" "cpu_max_$side" "$(awk -v d=$(( $(cpu_ticks "${!side}") - before[$side] )) -v hz="$CLK_TCK" -v n="$n" 'BEGIN {printf "%.4f", d / hz * 1000 / (n / 1000)}')"
  done

  log "round $r: $t: $RATE req/s open loop ($DURATION after a 2s warm-up)"
  for side in ${SIDES[$t]}; do before[$side]=$(cpu_ticks "${!side}"); done
  gen "$t.$r" "$url" "$RATE" "$DURATION" 2s
  n=$(json "$t.$r" requests_with_warmup)
  for f in p50_ms p90_ms p99_ms p999_ms max_ms errors dropped; do put "$t" "$f" "$(json "$t.$r" $f)"; done
  for side in ${SIDES[$t]}; do
    put "$t" "cpu_rate_$side" "$(awk -v d=$(( $(cpu_ticks "${!side}") - before[$side] )) -v hz="$CLK_TCK" -v n="$n" 'BEGIN {printf "%.4f", d / hz * 1000 / (n / 1000)}')"
    put "$t" "rss_rate_$side" "$(awk -v k="$(rss_kib "${!side}")" 'BEGIN {printf "%.1f", k / 1024}')"
  done
}
# ---- set-up: everything up before the first measurement ---------------------------------------------------
LOAD_BEFORE="$(uptime | sed 's/.*load average/load average/')"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "JDK: $("$JAVA" -version 2>&1 | head -n 1); $LOAD_BEFORE"
"$JAVA" -cp bench/target/benchmarks.jar dev.outrider.bench.load.BenchJwt --jwks "$WORK/jwks.json" --token "$WORK/token.txt"
TOKEN="$(cat "$WORK/token.txt")"
JWT_JWKS_FILE="$WORK/jwks.json"
PAIR_CHECK_HEADER="Authorization: Bearer $TOKEN"  # start_pair's first request through the pair
start_backend
URL[direct]="http://$LOOPBACK:$BACKEND_PORT/"; SIDES[direct]=""
declare -A H2_FRONT=([direct]="http://$LOOPBACK:$BACKEND_PORT/")  # where each target takes h2c (prior knowledge)
issue_certs
# Variant targets first (another pair of the same peer with one setting changed, in a work subdirectory,
# its process ids under their own names), so that the plain targets' variables are the ones left at the end.
for t in $TARGETS; do
  case $t in
    outrider-h2|outrider-epoll|outrider-unsafe|outrider-flags|outrider-at|outrider-global|outrider-tracing)
      pre=$(case $t in outrider-h2) echo OH2_ ;; outrider-epoll) echo OEP_ ;; outrider-flags) echo OFL_ ;; outrider-at) echo OAT_ ;; outrider-global) echo OGL_ ;; outrider-tracing) echo OTR_ ;; *) echo OUN_ ;; esac)
      work=$WORK; mkdir -p "$WORK/$t"; WORK="$WORK/$t"
      case $t in
        outrider-h2) PAIR_PROTOCOL=h2c start_pair false ;;
        outrider-tracing) TRACING_ENDPOINT="http://$LOOPBACK:$BACKEND_PORT/v1/traces" start_pair false ;;
        outrider-epoll) PAIR_TRANSPORT=epoll start_pair false ;;
        outrider-global)
          need_pkg redis-server redis-server
          REDIS_PORT=$(free_port)
          redis-server --bind "$LOOPBACK" --port "$REDIS_PORT" --save "" --appendonly no --dir "$WORK" \
            --logfile "$WORK/redis.log" >/dev/null 2>&1 &
          REDIS_PID=$!; PIDS+=("$REDIS_PID")
          for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
          RATE_LIMIT=global REDIS_URI="redis://$LOOPBACK:$REDIS_PORT" start_pair false ;;
        outrider-unsafe) OUTRIDER_JAVA_OPTS="$(grep -v -e '^#' -e '^--sun-misc-unsafe-memory-access' config/jvm/sidecar.options | tr '\n' ' ')" start_pair false ;;
        outrider-flags)
          [[ -n "${VARIANT_FLAGS:-}" ]] || { log "outrider-flags needs VARIANT_FLAGS (JVM flags added to config/jvm/sidecar.options)"; exit 2; }
          OUTRIDER_JAVA_OPTS="@config/jvm/sidecar.options $VARIANT_FLAGS" start_pair false ;;
        outrider-at)
          [[ -x "${OUTRIDER_AT:-}/outrider" ]] || { log "outrider-at needs OUTRIDER_AT, a checkout with its ./outrider"; exit 2; }
          (cd "$OUTRIDER_AT" && JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --help >/dev/null)  # built (and trained) now, not in a timed start
          PAIR_LAUNCHER="$OUTRIDER_AT/outrider" start_pair false ;;
      esac
      WORK=$work
      check_mtls "Outrider B inbound ($t)" "$B_IN"
      printf -v "${pre}A_PID" '%s' "$A_PID"; printf -v "${pre}B_PID" '%s' "$B_PID"
      URL[$t]="http://$LOOPBACK:$A_UP/"; SIDES[$t]="${pre}A_PID ${pre}B_PID"; H2_FRONT[$t]="http://$LOOPBACK:$A_UP/"
      put "$t" "rss_idle_${pre}A_PID" "$(awk -v k="$(rss_kib "$A_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      put "$t" "rss_idle_${pre}B_PID" "$(awk -v k="$(rss_kib "$B_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      ;;
    haproxy-h2)
      work=$WORK; mkdir -p "$WORK/$t"; WORK="$WORK/$t"
      HAPROXY_MESH=h2 start_haproxy_pair; WORK=$work
      check_mtls "haproxy B ($t)" "$HB_IN"
      HH2_A_PID=$HA_PID HH2_B_PID=$HB_PID
      URL[$t]="http://$LOOPBACK:$HA_UP/"; SIDES[$t]="HH2_A_PID HH2_B_PID"; H2_FRONT[$t]="http://$LOOPBACK:$HA_H2/"
      put "$t" rss_idle_HH2_A_PID "$(awk -v k="$(rss_kib "$HA_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      put "$t" rss_idle_HH2_B_PID "$(awk -v k="$(rss_kib "$HB_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      ;;
  esac
done
for t in $TARGETS; do
  case $t in
    direct|outrider-h2|outrider-epoll|outrider-unsafe|outrider-flags|outrider-at|outrider-global|outrider-tracing|haproxy-h2) ;;
    outrider)
      start_pair false
      check_mtls "Outrider B inbound" "$B_IN"
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://$LOOPBACK:$A_UP/")
      [[ "$code" == 403 ]] || { log "Outrider pair without a token answered $code, expected 403 (JWT required)"; exit 1; }
      code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://$LOOPBACK:$A_UP/")
      [[ "$code" == 200 ]] || { log "Outrider pair with the token answered $code, expected 200"; exit 1; }
      URL[outrider]="http://$LOOPBACK:$A_UP/"; SIDES[outrider]="A_PID B_PID"; H2_FRONT[outrider]="http://$LOOPBACK:$A_UP/"
      put outrider rss_idle_A_PID "$(awk -v k="$(rss_kib "$A_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      put outrider rss_idle_B_PID "$(awk -v k="$(rss_kib "$B_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      OUTRIDER_FLAGS="$(tr '\0' ' ' <"/proc/$B_PID/cmdline" | sed 's/ -jar .*//; s/^[^ ]* //')"
      ;;
    haproxy)
      start_haproxy_pair; check_mtls "haproxy B" "$HB_IN"
      URL[haproxy]="http://$LOOPBACK:$HA_UP/"; SIDES[haproxy]="HA_PID HB_PID"; H2_FRONT[haproxy]="http://$LOOPBACK:$HA_H2/"
      put haproxy rss_idle_HA_PID "$(awk -v k="$(rss_kib "$HA_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      put haproxy rss_idle_HB_PID "$(awk -v k="$(rss_kib "$HB_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      ;;
    nginx)
      start_nginx_pair; check_mtls "nginx B" "$NB_IN"
      URL[nginx]="http://$LOOPBACK:$NA_UP/"; SIDES[nginx]="NA_PID NB_PID"; H2_FRONT[nginx]="http://$LOOPBACK:$NA_H2/"
      put nginx rss_idle_NA_PID "$(awk -v k="$(rss_kib "$NA_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      put nginx rss_idle_NB_PID "$(awk -v k="$(rss_kib "$NB_PID")" 'BEGIN {printf "%.1f", k / 1024}')"
      ;;
    *) log "unknown target $t"; exit 2 ;;
  esac
  # the wider cases' requests, once through each target before any load
  if has_case 1k; then check_body "$t" "${URL[$t]}1k" 1024; fi
  if has_case 64k; then check_body "$t" "${URL[$t]}64k" 65536; fi
  if has_case h2; then h2_front "$t" "${H2_FRONT[$t]}"; fi
  if [[ -n "${H2URL[$t]:-}" ]]; then check_body "$t (h2)" "${H2URL[$t]}" 64 --http2-prior-knowledge; fi
done

# ---- rounds ----------------------------------------------------------------------------------------------
read -r -a ORDER <<<"$TARGETS"
if [[ "$FIRST_WARMUP" != 0s ]]; then
  for t in $TARGETS; do
    log "first warm-up: $t ($FIRST_WARMUP, wrk -t$THREADS -c$CONNECTIONS; not measured)"
    timeout $(( ${FIRST_WARMUP%s} + 20 )) wrk -t"$THREADS" -c"$CONNECTIONS" -d"$FIRST_WARMUP" -H "Authorization: Bearer $TOKEN" "${URL[$t]}" >/dev/null
    if [[ -n "${H2URL[$t]:-}" ]]; then
      log "first warm-up: $t ($FIRST_WARMUP, h2load -c $H2_CLIENTS -m $H2_STREAMS; not measured)"
      timeout $(( ${FIRST_WARMUP%s} + 20 )) h2load -c "$H2_CLIENTS" -m "$H2_STREAMS" -t "$H2_THREADS" -D "${FIRST_WARMUP%s}" \
        -H "Authorization: Bearer $TOKEN" "${H2URL[$t]}" >/dev/null 2>&1 || true
    fi
  done
fi
for r in $(seq 1 "$ROUNDS"); do
  for c in $CASES; do
    for i in "${!ORDER[@]}"; do
      t=${ORDER[$(( (i + r - 1) % ${#ORDER[@]} ))]}
      if [[ "$c" == base ]]; then measure "$t" "$r"; else measure_wide "$c" "$t" "$r"; fi
    done
  done
  # added p99 at the fixed rate, per round against the same round's direct run
  for t in $TARGETS; do
    [[ "$t" == direct || ! -f "$WORK/direct.$r.json" ]] && continue
    put "$t" added_p99 "$(awk -v a="$(json "$t.$r" p99_ms)" -v b="$(json "direct.$r" p99_ms)" 'BEGIN {printf "%.3f", a - b}')"
  done
done
LOAD_AFTER="$(uptime | sed 's/.*load average/load average/')"
B_RATELIMIT="$( [[ " $TARGETS " == *" outrider "* ]] && ratelimit_b || echo n/a)"
B_AUTHN="$( [[ " $TARGETS " == *" outrider "* ]] && curl -sf "http://$LOOPBACK:$B_ADMIN/metrics" | awk '/^outrider_authn_requests_total\{/ {print}' | tr '\n' ' ' || echo n/a)"

# ---- report ----------------------------------------------------------------------------------------------
label() {
  case $1 in
    direct) echo "direct: client → backend" ;;
    outrider) echo "Outrider pair (mTLS, protocol auto: HTTP/1.1 or h2 as the client; JWT + ALLOW + rate limit on B)" ;;
    outrider-h2) echo "Outrider pair, protocol h2c (h2 between the sidecars for every client)" ;;
    outrider-epoll) echo "Outrider pair, runtime.transport epoll" ;;
    outrider-global) echo "Outrider pair, B's rate-limit rules scope: global (leases of tokens from a redis-server on loopback)" ;;
    outrider-tracing) echo "Outrider pair, tracing on at sampling ${TRACING_RATIO:-0.01} (OTLP/HTTP to the backend)" ;;
    outrider-unsafe) echo "Outrider pair, JVM flags without --sun-misc-unsafe-memory-access=allow (Netty without Unsafe)" ;;
    outrider-flags) echo "Outrider pair, JVM flags plus $VARIANT_FLAGS" ;;
    outrider-at) echo "Outrider pair from $OUTRIDER_AT (commit $(git -C "$OUTRIDER_AT" log -1 --format=%h 2>/dev/null || echo '?'))" ;;
    haproxy) echo "HAProxy pair (mTLS, HTTP/1.1 or h2 as the client, nbthread $HAPROXY_THREADS)" ;;
    haproxy-h2) echo "HAProxy pair, h2 between the proxies for every client" ;;
    nginx) echo "nginx pair (mTLS, HTTP/1.1 upstream, $NGINX_WORKERS workers)" ;;
  esac
}
sidepair() { # target metric-prefix digits: "A / B" medians
  local s out=""
  for s in ${SIDES[$1]}; do out+="${out:+ / }$(fmt "$(median "$1" "$2_$s")" "${3:-1}")"; done
  echo "${out:-–}"
}
ratio_h() { # value haproxy-value
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "?" || b == "?" || b == 0) print "–"; else printf "%.2f", a / b }'
}
REPORT="$WORK/report.md"
{
  echo "<!-- compare.sh:begin (generated by bench/scripts/compare.sh; the next run replaces this section) -->"
  echo "## Outrider pair vs HAProxy pair vs nginx pair (compare.sh)"
  echo
  echo "Command: \`$COMMAND\` (rounds $ROUNDS, $DURATION per measurement, targets alternating; medians over the rounds)."
  echo "Started $STARTED on this machine ($(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)); $("$JAVA" -version 2>&1 | head -n 1)."
  echo "Load before: $LOAD_BEFORE; after: $LOAD_AFTER (another engineer may run JMH on this machine at the same time)."
  echo "Cases: $CASES."
  if has_case base; then
    echo
    echo "### Base case: 64 B body, wrk -t$THREADS -c$CONNECTIONS, and ${RATE} req/s open loop"
    echo
    echo "| target | max req/s (wrk) | wrk p99 ms | p50 ms @${RATE}/s | p99 ms @${RATE}/s | p99.9 ms @${RATE}/s | added p99 ms @${RATE}/s | errors (wrk / gen, all rounds) | CPU ms per 1k req @max (A / B) | CPU ms per 1k req @${RATE}/s (A / B) | RSS MiB idle (A / B) | RSS MiB @${RATE}/s (A / B) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for t in $TARGETS; do
      we=$(awk '{s += $1} END {print s + 0}' "$WORK/m/$t.wrk_errors" 2>/dev/null || echo ?)
      ge=$(awk '{s += $1} END {print s + 0}' "$WORK/m/$t.errors" 2>/dev/null || echo ?)
      gd=$(awk '{s += $1} END {print s + 0}' "$WORK/m/$t.dropped" 2>/dev/null || echo ?)
      echo "| $(label "$t") | $(fmt "$(median "$t" rps)" 0) | $(fmt "$(median "$t" wrk_p99)" 3) | $(fmt "$(median "$t" p50_ms)" 3) | $(fmt "$(median "$t" p99_ms)" 3) | $(fmt "$(median "$t" p999_ms)" 3) | $( [[ $t == direct ]] && echo – || fmt "$(median "$t" added_p99)" 3) | $we / $ge$( ((gd > 0)) && echo " (+$gd dropped)") | $(sidepair "$t" cpu_max 1) | $(sidepair "$t" cpu_rate 1) | $(sidepair "$t" rss_idle 1) | $(sidepair "$t" rss_rate 1) |"
    done
    if [[ " $TARGETS " == *" outrider "* && " $TARGETS " == *" haproxy "* ]]; then
      echo
      echo "Outrider pair ÷ HAProxy pair (medians; req/s above 1.00 and everything else below 1.00 favour Outrider):"
      echo
      echo "| | max req/s | p99 @${RATE}/s | added p99 @${RATE}/s | CPU/1k req @${RATE}/s (B) | RSS @${RATE}/s (B) |"
      echo "|---|---:|---:|---:|---:|---:|"
      echo "| Outrider ÷ HAProxy | $(ratio_h "$(median outrider rps)" "$(median haproxy rps)") | $(ratio_h "$(median outrider p99_ms)" "$(median haproxy p99_ms)") | $(ratio_h "$(median outrider added_p99)" "$(median haproxy added_p99)") | $(ratio_h "$(median outrider cpu_rate_B_PID)" "$(median haproxy cpu_rate_HB_PID)") | $(ratio_h "$(median outrider rss_rate_B_PID)" "$(median haproxy rss_rate_HB_PID)") |"
      [[ " $TARGETS " == *" nginx "* ]] && echo "| nginx ÷ HAProxy | $(ratio_h "$(median nginx rps)" "$(median haproxy rps)") | $(ratio_h "$(median nginx p99_ms)" "$(median haproxy p99_ms)") | $(ratio_h "$(median nginx added_p99)" "$(median haproxy added_p99)") | $(ratio_h "$(median nginx cpu_rate_NB_PID)" "$(median haproxy cpu_rate_HB_PID)") | $(ratio_h "$(median nginx rss_rate_NB_PID)" "$(median haproxy rss_rate_HB_PID)") |"
    fi
    echo
    echo "Per-round values (max req/s; p99 ms @${RATE}/s):"
    for t in $TARGETS; do echo "- $t: $(tr '\n' ' ' <"$WORK/m/$t.rps" 2>/dev/null); $(tr '\n' ' ' <"$WORK/m/$t.p99_ms" 2>/dev/null)"; done
  fi
  wide_report
  echo
  echo "- First warm-up: $FIRST_WARMUP of wrk per target before round 1$(has_case h2 && echo ", and as much of h2load for the h2 case") (not measured)."
  has_case base && echo "- Load (base): \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\` after a $WARMUP warm-up; fixed rate: \`LoadGenerator --rate $RATE -c $RATE_CONNECTIONS --duration $DURATION --warmup 2s\` (open loop, latency from the intended start). Every request carries the same ES256 bearer token."
  echo "- CPU ms per 1k req: (utime+stime) of the process (nginx: master + workers) over the run ÷ requests served × 1000 (fixed rate: warm-up included in both). The goal, 0.1 vCPU per 1,000 req/s, is 100 ms per 1k requests."
  has_case base && echo "- RSS: VmRSS; idle = after start and the curl checks, before any load; @${RATE}/s = right after the fixed-rate run of each round."
  wide_notes
  [[ -n "${OUTRIDER_FLAGS:-}" ]] && echo "- Outrider sidecar JVM flags (the launcher's defaults, not tuned here): \`$OUTRIDER_FLAGS\`"
  echo "- $(haproxy -v 2>/dev/null | head -n 1); $(nginx -v 2>&1); wrk $(wrk -v 2>&1 | head -n 1 | awk '{print $2}')"
  echo "- mTLS checks (curl, before the load): $MTLS_CHECKS"
  echo "- Outrider B over the whole run: throttling $B_RATELIMIT; authn: $B_AUTHN"
  echo "<!-- compare.sh:end -->"
} >"$REPORT"
cat "$REPORT"

if ((WRITE_RESULTS)); then
  python3 - "$ROOT/bench/RESULTS.md" "$REPORT" <<'PY'
import re, sys
path, report = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(path).read()
pattern = re.compile(r"<!-- compare.sh:begin.*?<!-- compare.sh:end -->", re.S)
text = pattern.sub(lambda m: report, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + report + "\n"
open(path, "w").write(text)
PY
  log "bench/RESULTS.md updated"
fi
