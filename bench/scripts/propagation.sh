#!/usr/bin/env bash
# Control plane distribution: time from an API write until N simulated sidecars applied and ACKed it.
#
#   bench/scripts/propagation.sh                              # 100 sidecars, 50 measured writes (+5 warm-up)
#   bench/scripts/propagation.sh --sidecars 100 --writes 50   # options go to PropagationBenchmark (--help lists them)
#   bench/scripts/propagation.sh --replicas 3 --sidecars 1000 --writes 50 --sidecar-dir /dev/shm
#
#   --replicas 1 (default): one JVM: control plane (ControlPlane.start, 127.0.0.1:0, HTTPS, file store) + N sidecars
#   --replicas 3: 3 etcd members (/usr/bin/etcd, loopback) and 3 control-plane JVMs (the control plane's jar with
#     config/jvm/control-plane.options, --store etcd://...), the N sidecars round-robin over them in this JVM
#   a sidecar: registration, mTLS client, long-poll watcher, signature check, policy parse, last-known-good file,
#   ACK; instances of one workload share its certificate and HTTP client (--instances-per-service); an admin
#   client per replica PUTs one AuthorizationPolicy per round (round-robin) and reads GET /v1/sidecars
#
# Builds bench/target/benchmarks.jar and control-plane/target/outrider-control-plane.jar (and what they depend on)
# when missing or older than a source or pom of bench/, control-plane/ or core/. Installs Debian's etcd-server
# (apt-get) when --replicas asks for etcd and /usr/bin/etcd is missing. The summary (a markdown table) goes to
# stdout, one progress line per round to stderr. The benchmark makes its CA, keys, admin token and data in a
# temporary directory, and stops every process it started and deletes that directory at its end, also after a
# failure, Ctrl-C or SIGTERM.
#
# Environment: JAVA (a JDK >= 25 java), BENCH_JAVA_OPTS (JVM flags of the benchmark's JVM; default: the
#              launcher's, as the control plane and the sidecars run; with --replicas, G1 instead of the serial
#              collector), OUTRIDER_LOG_LEVEL (default WARN: N
#              sidecars logging every snapshot at INFO would be part of what is measured; the replicas log at
#              INFO, as deployed, into their log files).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

log() { echo "propagation.sh: $*" >&2; }

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

JAR=bench/target/benchmarks.jar
stale() {
  [[ ! -f "$JAR" || ! -f control-plane/target/outrider-control-plane.jar ]] && return 0
  [[ -n "$(find pom.xml bench control-plane core \( -path '*/target' -prune \) -o \
      \( -name pom.xml -o -path '*/src/main/*' \) -type f -newer "$JAR" -print -quit)" ]]
}
if stale; then
  log "building (./mvnw -B -q -pl bench -am -DskipTests package)"
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./mvnw -B -q -pl bench -am -DskipTests package
fi

# --replicas other than 1 runs etcd members: Debian's etcd-server, installed when missing.
wants_etcd() {
  local prev="" a
  for a in "$@"; do
    if [[ ( $prev == --replicas && $a != 1 ) || ( $a == --replicas=* && $a != --replicas=1 ) ]]; then
      return 0
    fi
    prev="$a"
  done
  return 1
}
if wants_etcd "$@" && [[ ! -x /usr/bin/etcd ]]; then
  log "installing etcd-server (apt-get)"
  apt-get update -qq >/dev/null && apt-get install -y -qq etcd-server >/dev/null
fi

DEFAULT_JAVA_OPTS="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xss512k -XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"
if wants_etcd "$@"; then
  # The control plane runs in its own JVMs (with its own flags); this one holds only the N simulated sidecars.
  # With 1,000 of them under the serial collector its heap grew to GBs (7.6 GB RSS during a start-up, 0.45 GB
  # live after a full collection), and one full collection of such a heap stops every sidecar at once; G1
  # collects it in short pauses, mostly concurrently. The report gives the pauses of the rounds.
  DEFAULT_JAVA_OPTS="${DEFAULT_JAVA_OPTS/-XX:+UseSerialGC/-XX:+UseG1GC}"
fi
log "JDK: $("$JAVA" -version 2>&1 | head -n 1); JVM flags: ${BENCH_JAVA_OPTS:-$DEFAULT_JAVA_OPTS}"
export OUTRIDER_LOG_LEVEL="${OUTRIDER_LOG_LEVEL:-WARN}"
# shellcheck disable=SC2086 # BENCH_JAVA_OPTS is a list of flags
exec "$JAVA" ${BENCH_JAVA_OPTS:-$DEFAULT_JAVA_OPTS} -cp "$JAR" \
    dev.outrider.bench.controlplane.PropagationBenchmark "$@"
