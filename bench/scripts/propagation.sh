#!/usr/bin/env bash
# Control plane distribution: time from an API write until N simulated sidecars applied and ACKed it.
#
#   bench/scripts/propagation.sh                              # 100 sidecars, 50 measured writes (+5 warm-up)
#   bench/scripts/propagation.sh --sidecars 100 --writes 50   # options go to PropagationBenchmark (--help lists them)
#
#   one JVM: control plane (ControlPlane.start, 127.0.0.1:0, HTTPS, file store) + N sidecars (join token, CSR,
#   mTLS client, long-poll watcher, signature check, policy parse, last-known-good file, ACK) + an admin client
#   that PUTs one AuthorizationPolicy per round and reads GET /v1/sidecars
#
# Builds bench/target/benchmarks.jar (and what it depends on) when it is missing or older than a source or pom
# of bench/, control-plane/ or core/. The summary (a markdown table) goes to stdout, one progress line
# per round to stderr. The benchmark makes its CA, admin token and data in a temporary directory and deletes it.
#
# Environment: JAVA (a JDK >= 25 java), BENCH_JAVA_OPTS (JVM flags; default: the launcher's, as the control plane
#              and the sidecars run), OUTRIDER_LOG_LEVEL (default WARN: N sidecars logging every snapshot at
#              INFO would be part of what is measured).
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
  [[ ! -f "$JAR" ]] && return 0
  [[ -n "$(find pom.xml bench control-plane core \( -path '*/target' -prune \) -o \
      \( -name pom.xml -o -path '*/src/main/*' \) -type f -newer "$JAR" -print -quit)" ]]
}
if stale; then
  log "building (./mvnw -B -q -pl bench -am -DskipTests package)"
  JAVA_HOME="$(dirname "$(dirname "$JAVA")")" ./mvnw -B -q -pl bench -am -DskipTests package
fi

DEFAULT_JAVA_OPTS="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:+UseCompactObjectHeaders -Xss512k -XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError"
log "JDK: $("$JAVA" -version 2>&1 | head -n 1); JVM flags: ${BENCH_JAVA_OPTS:-$DEFAULT_JAVA_OPTS}"
export OUTRIDER_LOG_LEVEL="${OUTRIDER_LOG_LEVEL:-WARN}"
# shellcheck disable=SC2086 # BENCH_JAVA_OPTS is a list of flags
exec "$JAVA" ${BENCH_JAVA_OPTS:-$DEFAULT_JAVA_OPTS} -cp "$JAR" \
    dev.outrider.bench.controlplane.PropagationBenchmark "$@"
