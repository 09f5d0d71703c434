#!/usr/bin/env bash
# Memory of the Outrider pair through an overload and after it: does RSS come back down, and if not, what
# holds it? The pair is the one compare.sh and jvm-flags.sh measure (mTLS h2 between A and B, JWT + ALLOW +
# rate limit on B), started with config/jvm/sidecar.options unless a variant says otherwise.
#
#   bench/scripts/overload-memory.sh                                          # one variant: the launcher's flags, with NMT
#   bench/scripts/overload-memory.sh --variant 'now=@config/jvm/sidecar.options' \
#                                    --variant 'trim=@config/jvm/sidecar.options -XX:TrimNativeHeapInterval=5000'
#   bench/scripts/overload-memory.sh --no-nmt --throughput 10s                # plain flags, + a max-throughput run
#
# Per variant (a fresh pair each, variants one after another), sidecar A and B separately:
#   idle        5 s after both are ready; then an unrecorded warm-up (wrk -t2 -c32, --warmup 10s) so that
#               the JIT's code cache and the pools have grown to their steady size before the baseline
#   rate        during (peak of 1 s samples) and right after 10 s at --rate req/s (LoadGenerator, open loop, 16 conns)
#   overload    peak and end of `wrk -t2 -c256 -d30s` (closed loop, far beyond what 2 shared cores serve)
#   +10s/+30s/+60s after the overload, idle
# RSS (VmRSS), heap committed (jcmd GC.heap_info), Netty's pooled allocator (netty_allocator_memory_used_bytes
# from the admin port), sockets and threads (/proc/PID) at each point; with NMT (default on:
# -XX:NativeMemoryTracking=summary) `jcmd VM.native_memory summary` idle, after the fixed rate, at the end of
# the overload and at +60s, printed per category with "outside NMT" = RSS - NMT committed (glibc malloc arenas'
# free memory, BoringSSL's and other native libraries' allocations, shared library pages, NMT's own error).
# Then two probes, each followed by RSS: `jcmd System.trim_native_heap` (glibc malloc_trim: what the C heap
# held free) and `jcmd GC.run` (a full GC: what the heap held). --throughput D adds, after the probes, a
# max-throughput run (wrk -t2 -c32, 5 s warm-up, D measured) with CPU ms per 1,000 requests per sidecar.
#
# Bounded (every run under a timeout; about 2 minutes per variant), loopback only, everything started is
# stopped on exit (trap, by process id). Installs wrk, curl and openssl with apt-get when missing.
# Environment: JAVA, TLS_PROVIDER (auto), RATE_LIMIT (on), BACKEND_PORT (18080), KEEP_OUTPUT (a directory to
# copy the raw NMT, heap, wrk files and the sidecars' logs to). The sidecars' "load is over" lines (their own
# full collection after a burst) are printed to stderr.
set -euo pipefail

RATE=1000 RATE_CONNECTIONS=16 RATE_DURATION=10s OVERLOAD=30s OVERLOAD_CONNECTIONS=256 THREADS=2
AFTER="10 30 60" NMT=1 THROUGHPUT="" IDLE_SECS=5 WARMUP=10s
VARIANTS=() ORIG_ARGS=("$@")
usage() {
  cat <<USAGE
usage: $0 [--variant NAME=FLAGS ...] [options]
  --variant NAME=FLAGS   JVM flags of both sidecars (default: now=@config/jvm/sidecar.options); FLAGS may
                         start with VAR=value environment words (MALLOC_ARENA_MAX=2 @config/...)
  --warmup D             the unrecorded warm-up after "idle" (default $WARMUP; 0s: none)
  --rate R               the fixed rate, req/s (default $RATE), for $RATE_DURATION
  --overload D           the overload's length (default $OVERLOAD)
  --connections N        the overload's wrk connections (default $OVERLOAD_CONNECTIONS)
  --after "S ..."        seconds after the overload at which to record (default "$AFTER"; ascending)
  --no-nmt               without -XX:NativeMemoryTracking=summary (NMT costs a little memory and CPU)
  --throughput D         a max-throughput run at the end (wrk -t2 -c32, D measured), CPU per 1k requests
USAGE
}
while (($#)); do
  case $1 in
    --variant) [[ "${2:-}" == *=* ]] || { usage >&2; exit 2; }; VARIANTS+=("$2"); shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --overload) OVERLOAD=$2; shift 2 ;;
    --connections) OVERLOAD_CONNECTIONS=$2; shift 2 ;;
    --after) AFTER=$2; shift 2 ;;
    --no-nmt) NMT=0; shift ;;
    --throughput) THROUGHPUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
((${#VARIANTS[@]})) || VARIANTS=("now=@config/jvm/sidecar.options")
[[ "$OVERLOAD" =~ ^[0-9]+s$ && "$WARMUP" =~ ^[0-9]+s$ && ( -z "$THROUGHPUT" || "$THROUGHPUT" =~ ^[0-9]+s$ ) ]] \
  || { echo "overload-memory.sh: durations in whole seconds, like 30s" >&2; exit 2; }
[[ "$AFTER" =~ ^[0-9]+( [0-9]+)*$ ]] || { echo "overload-memory.sh: --after takes seconds, like \"10 30 60\"" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
BACKEND_PORT="${BACKEND_PORT:-18080}" LOOPBACK=127.0.0.1
TLS_PROVIDER="${TLS_PROVIDER:-auto}" PAIR_PROTOCOL=auto RATE_LIMIT="${RATE_LIMIT:-on}" HAPROXY_THREADS=2
log() { echo "overload-memory.sh: $*" >&2; }
source "$(dirname "${BASH_SOURCE[0]}")/lib/pair-lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib/measure-lib.sh"

prepare_jvm_bench  # wrk, curl, openssl, JAVA, JCMD, the jars (pair-lib.sh)

work_dir overload-memory
mkdir -p "$WORK/m"
((NMT)) && VARIANT_EXTRA_FLAGS="-XX:NativeMemoryTracking=summary"

load_avg() { sed 's/.*load average: //' /proc/loadavg 2>/dev/null | awk '{print $1", "$2", "$3}'; }
LOAD_BEFORE="$(load_avg)"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
log "JDK: $("$JAVA" -version 2>&1 | head -n 1); load average $LOAD_BEFORE"
"$JAVA" -cp bench/target/benchmarks.jar dev.outrider.bench.load.BenchJwt --jwks "$WORK/jwks.json" --token "$WORK/token.txt"
TOKEN="$(cat "$WORK/token.txt")"
JWT_JWKS_FILE="$WORK/jwks.json"
PAIR_CHECK_HEADER="Authorization: Bearer $TOKEN"
start_backend
issue_certs

# ---- what is recorded at each point ---------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
# Heap committed in KiB from GC.heap_info (Serial: "def new generation total NK" + "tenured generation total NK";
# G1/Parallel/ZGC lines with "total NK" or "committed NK" too).
heap_committed_kib() {
  "$JCMD" "$1" GC.heap_info 2>/dev/null | tee "$2" \
    | awk '/ total [0-9]+K/ && !/Metaspace|class space/ { for (i = 1; i <= NF; i++) if ($i == "total") { v = $(i + 1); sub(/K,?$/, "", v); s += v } }
           END {print s + 0}'
}
# Netty's pooled allocator, bytes in use (chunks it holds, direct + heap), from the admin port's Prometheus text.
netty_used_bytes() {
  curl -sf --max-time 5 "http://$LOOPBACK:$1/metrics" 2>/dev/null \
    | awk '/^netty_allocator_memory_used_bytes\{/ { s += $NF; seen = 1 } END { if (seen) printf "%.0f", s; else print "?" }' || echo "?"
}
sockets_of() { ls -l "/proc/$1/fd" 2>/dev/null | grep -c 'socket:' || true; }
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# record VARIANT POINT [nmt]: RSS, heap committed, sockets and threads of A and B now; with "nmt" and NMT
# on, their NMT summaries too.
record() {
  local v=$1 point=$2 side pid admin netty
  for side in a b; do
    [[ $side == a ]] && pid=$A_PID admin=$A_ADMIN || pid=$B_PID admin=$B_ADMIN
    put "$v.$side" "rss.$point" "$(mib "$(rss_kib "$pid")")"
    netty=$(netty_used_bytes "$admin")
    put "$v.$side" "netty.$point" "$([[ $netty == "?" ]] && echo "?" || mib $(( netty / 1024 )))"
    put "$v.$side" "heap.$point" "$(mib "$(heap_committed_kib "$pid" "$WORK/$v.$side.$point.heap")")"
    put "$v.$side" "sockets.$point" "$(sockets_of "$pid")"
    put "$v.$side" "threads.$point" "$(threads_of "$pid")"
    if [[ "${3:-}" == nmt ]] && ((NMT)); then
      "$JCMD" "$pid" VM.native_memory summary scale=KB >"$WORK/$v.$side.$point.nmt" 2>&1 || true
      put "$v.$side" "nmtrss.$point" "$(mib "$(rss_kib "$pid")")"
    fi
  done
}
# sample_while PID_OF_LOAD VARIANT PHASE: RSS of A and B every second while the load runs; the peak is kept.
sample_while() {
  local load=$1 v=$2 phase=$3 pa=0 pb=0 a b
  while kill -0 "$load" 2>/dev/null; do
    a=$(rss_kib "$A_PID"); b=$(rss_kib "$B_PID")
    (( a > pa )) && pa=$a; (( b > pb )) && pb=$b
    sleep 1
  done
  put "$v.a" "rss.$phase-peak" "$(mib "$pa")"; put "$v.b" "rss.$phase-peak" "$(mib "$pb")"
}

run_variant() {
  local v=$1 flags=$2 url t_end now s before_a before_b n
  start_variant_pair "$v: start" "$flags"
  url="http://$LOOPBACK:$A_UP/"
  put "$v" load.start "$(load_avg)"
  put "$v" transport "A $(transport_of "$A_PID"), B $(transport_of "$B_PID")"
  sleep "$IDLE_SECS"
  record "$v" idle nmt
  if [[ "$WARMUP" != 0s ]]; then
    log "$v: warm-up, wrk -t$THREADS -c32 -d$WARMUP (not recorded)"
    timeout $(( ${WARMUP%s} + 30 )) wrk -t"$THREADS" -c32 -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
  fi

  log "$v: ${RATE} req/s for $RATE_DURATION"
  gen "$v.rate" "$url" "$RATE" "$RATE_DURATION" 0s &
  sample_while $! "$v" rate
  wait $! || true
  record "$v" rate nmt
  put "$v" rate.result "$(json "$v.rate" rps) req/s, p99 $(json "$v.rate" p99_ms) ms, $(json "$v.rate" errors) errors, $(json "$v.rate" dropped) dropped"

  log "$v: overload, wrk -t$THREADS -c$OVERLOAD_CONNECTIONS -d$OVERLOAD"
  timeout $(( ${OVERLOAD%s} + 30 )) wrk -t"$THREADS" -c"$OVERLOAD_CONNECTIONS" -d"$OVERLOAD" --timeout 10s \
    -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$v.overload.wrk" 2>&1 &
  sample_while $! "$v" overload
  wait $! || true
  t_end=$(date +%s)
  record "$v" overload nmt
  put "$v" overload.result "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/$v.overload.wrk") req/s, $(errors_of_file "$WORK/$v.overload.wrk") errors (wrk non-2xx + socket errors, timeouts included)"

  for s in $AFTER; do
    now=$(date +%s)
    (( t_end + s > now )) && sleep $(( t_end + s - now ))
    if [[ "$s" == "${AFTER##* }" ]]; then record "$v" "after$s" nmt; else record "$v" "after$s"; fi
  done
  put "$v" load.after "$(load_avg)"

  # Probes: what glibc's heap held free, then what a full GC gives back.
  for side in a b; do
    [[ $side == a ]] && pid=$A_PID || pid=$B_PID
    "$JCMD" "$pid" System.trim_native_heap >"$WORK/$v.$side.trim" 2>&1 || true
    put "$v.$side" rss.trim "$(mib "$(rss_kib "$pid")")"
    "$JCMD" "$pid" GC.run >/dev/null 2>&1 || true
    sleep 1
    put "$v.$side" rss.gc "$(mib "$(rss_kib "$pid")")"
    put "$v.$side" heap.gc "$(mib "$(heap_committed_kib "$pid" "$WORK/$v.$side.gc.heap")")"
  done

  if [[ -n "$THROUGHPUT" ]]; then
    log "$v: max throughput, wrk -t$THREADS -c32, 5 s warm-up + $THROUGHPUT"
    timeout 30 wrk -t"$THREADS" -c32 -d5s -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
    before_a=$(cpu_ticks "$A_PID"); before_b=$(cpu_ticks "$B_PID")
    timeout $(( ${THROUGHPUT%s} + 30 )) wrk -t"$THREADS" -c32 -d"$THROUGHPUT" -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$v.max.wrk"
    n=$(awk '/requests in/ {print $1}' "$WORK/$v.max.wrk")
    put "$v" max.rps "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$WORK/$v.max.wrk")"
    put "$v" max.cpu "$(awk -v d=$(( $(cpu_ticks "$A_PID") - before_a + $(cpu_ticks "$B_PID") - before_b )) -v hz="$CLK_TCK" -v n="$n" \
      'BEGIN {printf "%.2f", d / 2 / hz * 1000 / (n / 1000)}')"
    put "$v" max.errors "$(errors_of_file "$WORK/$v.max.wrk")"
  fi
  stop_pair
  cp "$WORK/sidecar-a.out" "$WORK/$v.sidecar-a.log"; cp "$WORK/sidecar-b.out" "$WORK/$v.sidecar-b.log"
  grep -h 'load is over' "$WORK/$v.sidecar-a.log" "$WORK/$v.sidecar-b.log" >&2 || true
}

for v in "${VARIANTS[@]}"; do
  run_variant "${v%%=*}" "${v#*=}"
done
LOAD_AFTER="$(load_avg)"

# ---- report ---------------------------------------------------------------------------------------------
val() { [[ -s "$WORK/m/$1.$2" ]] && tail -n 1 "$WORK/m/$1.$2" || echo "?"; }  # KEY METRIC
POINTS=(idle rate-peak rate overload-peak overload)
for s in $AFTER; do POINTS+=("after$s"); done
label() {
  case $1 in
    idle) echo "idle" ;; rate-peak) echo "@${RATE}/s peak" ;; rate) echo "after ${RATE}/s" ;;
    overload-peak) echo "overload peak" ;; overload) echo "overload end" ;; after*) echo "+${1#after}s" ;;
    trim) echo "+ trim_native_heap" ;; gc) echo "+ GC.run" ;;
  esac
}
NMT_LAST="after${AFTER##* }"
# NMT committed KiB per category from a summary file: "Category<TAB>KiB" lines, "Total" first.
nmt_categories() {
  [[ -s "$1" ]] || return 0
  awk '/^Total: / { v = $0; sub(/.*committed=/, "", v); sub(/KB.*/, "", v); print "Total\t" v }
       /^-  *[A-Za-z][A-Za-z ]* \(reserved=/ { name = $0; sub(/^-  */, "", name); sub(/ \(reserved=.*/, "", name)
         v = $0; sub(/.*committed=/, "", v); sub(/KB.*/, "", v); print name "\t" v }' "$1"
}

echo "## Memory through an overload (overload-memory.sh)"
echo
echo "Command: \`bench/scripts/overload-memory.sh$( ((${#ORIG_ARGS[@]})) && printf " %q" "${ORIG_ARGS[@]}")\`"
echo "Started $STARTED on this machine ($(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)); $("$JAVA" -version 2>&1 | head -n 1); NMT $( ((NMT)) && echo on || echo off)."
echo "Load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $LOAD_AFTER."
for v in "${VARIANTS[@]}"; do
  n="${v%%=*}"
  echo
  echo "### Variant $n: \`${v#*=}\`"
  echo
  echo "- load average at its start: $(val "$n" load.start); after +${AFTER##* }s: $(val "$n" load.after); transport: $(val "$n" transport)"
  echo "- ${RATE} req/s for $RATE_DURATION: $(val "$n" rate.result); overload \`wrk -t$THREADS -c$OVERLOAD_CONNECTIONS -d$OVERLOAD\`: $(val "$n" overload.result)"
  [[ -n "$THROUGHPUT" ]] && echo "- max throughput (wrk -t$THREADS -c32, $THROUGHPUT, after the probes): $(val "$n" max.rps) req/s, CPU $(val "$n" max.cpu) ms per 1,000 requests per sidecar, $(val "$n" max.errors) errors"
  echo
  echo "| point | A RSS MiB | A heap committed MiB | A Netty pool MiB | A sockets | A threads | B RSS MiB | B heap committed MiB | B Netty pool MiB | B sockets | B threads |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for p in "${POINTS[@]}" trim gc; do
    row="| $(label "$p") "
    for side in a b; do
      case $p in
        *-peak) row+="| $(val "$n.$side" "rss.$p") | | | | " ;;
        trim) row+="| $(val "$n.$side" rss.trim) | | | | " ;;
        gc) row+="| $(val "$n.$side" rss.gc) | $(val "$n.$side" heap.gc) | | | " ;;
        *) row+="| $(val "$n.$side" "rss.$p") | $(val "$n.$side" "heap.$p") | $(val "$n.$side" "netty.$p") | $(val "$n.$side" "sockets.$p") | $(val "$n.$side" "threads.$p") " ;;
      esac
    done
    echo "$row|"
  done
  if ((NMT)); then
    for side in a b; do
      echo
      echo "NMT committed MiB, sidecar ${side^^} (categories ≥ 0.5 MiB at some point; \"outside NMT\" = RSS − NMT total):"
      echo
      echo "| category | idle | after ${RATE}/s | overload end | +${AFTER##* }s | +${AFTER##* }s − after ${RATE}/s |"
      echo "|---|---:|---:|---:|---:|---:|"
      declare -A I=() R=() O=() L=()
      while IFS=$'\t' read -r c k; do I[$c]=$k; done < <(nmt_categories "$WORK/$n.$side.idle.nmt")
      while IFS=$'\t' read -r c k; do R[$c]=$k; done < <(nmt_categories "$WORK/$n.$side.rate.nmt")
      while IFS=$'\t' read -r c k; do O[$c]=$k; done < <(nmt_categories "$WORK/$n.$side.overload.nmt")
      while IFS=$'\t' read -r c k; do L[$c]=$k; done < <(nmt_categories "$WORK/$n.$side.$NMT_LAST.nmt")
      for c in $(nmt_categories "$WORK/$n.$side.idle.nmt" | cut -f1 | tr ' ' '_'); do
        c="${c//_/ }"
        awk -v c="$c" -v i="${I[$c]:-0}" -v r="${R[$c]:-0}" -v o="${O[$c]:-0}" -v l="${L[$c]:-0}" 'BEGIN {
          if (c == "Total" || i >= 512 || r >= 512 || o >= 512 || l >= 512)
            printf "| %s | %.1f | %.1f | %.1f | %.1f | %+.1f |\n", (c == "Total" ? "**NMT total**" : c), i / 1024, r / 1024, o / 1024, l / 1024, (l - r) / 1024 }'
      done
      awk -v ri="$(val "$n.$side" nmtrss.idle)" -v rr="$(val "$n.$side" nmtrss.rate)" -v ro="$(val "$n.$side" nmtrss.overload)" \
          -v rl="$(val "$n.$side" "nmtrss.$NMT_LAST")" -v i="${I[Total]:-0}" -v r="${R[Total]:-0}" -v o="${O[Total]:-0}" -v l="${L[Total]:-0}" 'BEGIN {
        printf "| outside NMT | %.1f | %.1f | %.1f | %.1f | %+.1f |\n", ri - i / 1024, rr - r / 1024, ro - o / 1024, rl - l / 1024, (rl - l / 1024) - (rr - r / 1024)
        printf "| **RSS** | %.1f | %.1f | %.1f | %.1f | %+.1f |\n", ri, rr, ro, rl, rl - rr }'
      unset I R O L
      echo
      echo "\`jcmd System.trim_native_heap\` at +${AFTER##* }s: $(grep -o 'RSS+Swap: [^)]*)' "$WORK/$n.$side.trim" 2>/dev/null || sed -n '2p' "$WORK/$n.$side.trim" 2>/dev/null)"
    done
  fi
done
if [[ -n "${KEEP_OUTPUT:-}" ]]; then
  mkdir -p "$KEEP_OUTPUT" && { cp -r "$WORK"/*.nmt "$WORK"/*.heap "$WORK"/*.wrk "$WORK"/*.gen "$WORK"/*.trim "$WORK"/*.log "$WORK/m" "$KEEP_OUTPUT"/ 2>/dev/null || true; }
  log "raw output copied to $KEEP_OUTPUT"
fi
