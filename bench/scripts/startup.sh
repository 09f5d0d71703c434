#!/usr/bin/env bash
# Outrider sidecar start-up: time from process start to the first /ready 200, and idle RSS, over several runs.
#
#   bench/scripts/startup.sh              # 5 runs each: ./outrider (with its AOT cache), ./outrider with
#                                         # OUTRIDER_AOT=off, java -jar directly (same flags, no cache)
#   bench/scripts/startup.sh --runs 10
#
# The sidecar is sidecar B of compare.sh: mTLS (certs/mesh-ca.sh bench certificates), a policy directory
# with an ALLOW AuthorizationPolicy, a RequestAuthentication (inline JWKS) and a RateLimitPolicy, every
# listener on a free loopback port. t0 is taken just before the fork; /ready is polled with curl every
# ~5 ms (resolution: one curl, a few ms). "launcher" runs ./outrider proxy (its staleness check included,
# and its AOT cache, trained before the first run when missing); "launcher-noaot" the same with OUTRIDER_AOT=off;
# "java -jar" runs the same JVM with the launcher's default flags, without the script. "image" (unless
# --no-image) is the sidecar image's installation as plain files, built here as docker/sidecar.Dockerfile builds it:
# the jars, config/jvm/sidecar.options and docker/bin/ under OUTRIDER_HOME, a runtime jlinked with
# docker/jre-modules.txt, and its AOT cache from docker/training/train-sidecar.sh (the image's training run, 300
# requests of each kind); each run starts its entry point, docker/bin/sidecar-entrypoint (not timed: the jlink
# and the training run). RSS is VmRSS 1 s
# after ready, no load (and its anonymous part, RssAnon: what is not a mapped file such as libjvm.so or the AOT
# cache, which processes running the same files share); classes = the JVM's loaded-class counter then.
# Medians printed as a markdown table. Each sidecar is stopped (SIGTERM, by pid)
# before the next one starts.
set -euo pipefail
RUNS=5 IMAGE=1
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --no-image) IMAGE=0; shift ;;
    *) echo "usage: $0 [--runs N] [--no-image]" >&2; exit 2 ;;
  esac
done
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BACKEND_PORT=18080 LOOPBACK=127.0.0.1
TLS_PROVIDER="${TLS_PROVIDER:-auto}" PAIR_PROTOCOL=auto RATE_LIMIT=on HAPROXY_THREADS=2
log() { echo "startup.sh: $*" >&2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib/pair-lib.sh"
need_pkg curl curl; need_pkg openssl openssl
JAVA="$(find_java)"
JCMD="$(dirname "$JAVA")/jcmd"
[[ -f bench/target/benchmarks.jar ]] || JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./mvnw -B -q -DskipTests package
JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./outrider proxy --help >/dev/null   # rebuild now if stale, not in a timed run

WORK="$(mktemp -d /tmp/outrider-startup.XXXXXX)"
PIDS=()
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -KILL "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$JAVA" -cp bench/target/benchmarks.jar dev.outrider.bench.load.BenchJwt --jwks "$WORK/jwks.json" --token "$WORK/token.txt"
JWT_JWKS_FILE="$WORK/jwks.json"

# The image's installation as plain files (see the header), trained once.
IMAGE_HOME="$WORK/image-home"
if ((IMAGE)); then
  log "image: jlink and the AOT training run (not timed)"
  mkdir -p "$IMAGE_HOME"/{app/lib,jvm,bin,aot} "$WORK/image-run"
  cp -p proxy/target/outrider-proxy.jar "$IMAGE_HOME/app/"
  cp -p proxy/target/lib/*.jar "$IMAGE_HOME/app/lib/"
  cp config/jvm/sidecar.options "$IMAGE_HOME/jvm/"
  cp -p docker/bin/sidecar-entrypoint docker/bin/healthcheck docker/bin/outrider-jvm.sh "$IMAGE_HOME/bin/"
  "$(dirname "$JAVA")/jlink" --add-modules "$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' docker/jre-modules.txt | paste -sd, -)" \
    --strip-debug --no-man-pages --no-header-files --compress zip-6 --output "$IMAGE_HOME/jre"
  OUTRIDER_HOME="$IMAGE_HOME" MESH_CA="$ROOT/certs/mesh-ca.sh" TRAINING_INBOUND_PORT=$(free_port) \
    TRAINING_OUTBOUND_PORT=$(free_port) TRAINING_UPSTREAM_PORT=$(free_port) TRAINING_HEALTH_PORT=$(free_port) \
    TRAINING_ADMIN_PORT=$(free_port) docker/training/train-sidecar.sh 300 >"$WORK/image-training.log" 2>&1 \
    || { cat "$WORK/image-training.log" >&2; log "the image's training run failed"; exit 1; }
fi
issue_certs
FLAGS="@config/jvm/sidecar.options"

# one_run KIND: prints "ms rss_mib"
one_run() {
  write_configs false
  local t0 t1 code=""
  t0=$(date +%s%N)
  if [[ $1 == image ]]; then
    OUTRIDER_HOME="$IMAGE_HOME" OUTRIDER_RUN_DIR="$WORK/image-run" OUTRIDER_MESH_DIR="$WORK/image-run" \
      "$IMAGE_HOME/bin/sidecar-entrypoint" proxy --config "$WORK/sidecar-b.yaml" >"$WORK/run.out" 2>&1 &
  elif [[ $1 == launcher* ]]; then
    OUTRIDER_AOT=$([[ $1 == launcher ]] && echo auto || echo off) JAVA_HOME="$(dirname "$(dirname "$JAVA")")" \
      ./outrider proxy --config "$WORK/sidecar-b.yaml" >"$WORK/run.out" 2>&1 &
  else
    # shellcheck disable=SC2086
    "$JAVA" $FLAGS -jar proxy/target/outrider-proxy.jar proxy --config "$WORK/sidecar-b.yaml" >"$WORK/run.out" 2>&1 &
  fi
  PID=$!
  for _ in $(seq 1 3000); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$LOOPBACK:$B_HEALTH/ready" || true)
    [[ "$code" == 200 ]] && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/run.out" >&2; log "sidecar exited"; exit 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
  [[ "$code" == 200 ]] || { log "not ready after 15+ s"; exit 1; }
  sleep 1
  local rss anon classes
  rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status")
  anon=$(awk '/^RssAnon:/ {printf "%.1f", $2 / 1024}' "/proc/$PID/status")
  # loaded from the jars plus loaded from the CDS archive or AOT cache (java.cls.loadedClasses counts the former)
  classes=$("$JCMD" "$PID" PerfCounter.print 2>/dev/null \
    | awk -F= '$1 == "java.cls.loadedClasses" || $1 == "java.cls.sharedLoadedClasses" {n += $2} END {print n}')
  kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  echo "$(( (t1 - t0) / 1000000 )) $rss $anon ${classes:-?}"
}
median() { sort -g | awk '{v[NR] = $1} END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "| start → /ready 200 | runs | median ms | min ms | max ms | idle RSS MiB (median) | of it anonymous MiB | classes loaded |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for kind in launcher launcher-noaot java $( ((IMAGE)) && echo image); do
  : >"$WORK/$kind"
  for i in $(seq 1 "$RUNS"); do
    r=$(one_run "$kind"); echo "$r" >>"$WORK/$kind"; log "$kind run $i: ms, RSS, anonymous RSS, classes: $r"
  done
  case $kind in
    launcher) label="./outrider proxy (launcher, AOT cache)" ;;
    launcher-noaot) label="OUTRIDER_AOT=off ./outrider proxy" ;;
    image) label="the image's entry point (jlinked runtime, its AOT cache)" ;;
    *) label="java @config/jvm/sidecar.options -jar outrider-proxy.jar" ;;
  esac
  echo "| $label | $RUNS | $(cut -d' ' -f1 "$WORK/$kind" | median) | $(cut -d' ' -f1 "$WORK/$kind" | sort -g | head -n 1) | $(cut -d' ' -f1 "$WORK/$kind" | sort -g | tail -n 1) | $(cut -d' ' -f2 "$WORK/$kind" | median) | $(cut -d' ' -f3 "$WORK/$kind" | median) | $(cut -d' ' -f4 "$WORK/$kind" | median) |"
done
echo
echo "- JVM flags (the launcher's defaults): \`$FLAGS\`; $("$JAVA" -version 2>&1 | head -n 1); $(date -u +%Y-%m-%dT%H:%M:%SZ); $(uptime | sed 's/.*load average/load average/')"
echo "- sidecar: mTLS ($TLS_PROVIDER), policy directory with AuthorizationPolicy + RequestAuthentication (inline JWKS) + RateLimitPolicy; goals (issue 19): start to ready ≤ 300 ms with the AOT cache, ≤ 1 s without"
