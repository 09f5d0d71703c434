#!/usr/bin/env bash
# Where a proxied request's CPU goes, user space against the kernel, in the Outrider pair and the HAProxy pair.
#
#   bench/scripts/cost-split.sh [--rounds N] [--duration D] [--warmup D]
#
# The same set-up as compare.sh's base case (mTLS between the proxies, JWT + ALLOW policy + rate limit on
# Outrider B, HTTP/1.1 between the proxies for wrk's HTTP/1.1 client), both pairs up at once and measured in
# turn, N rounds (default 5). Per run: requests served by wrk -t2 -c32 at saturation; user and system CPU
# (utime and stime of both proxies of the pair) in ms per 1,000 requests; TCP segments sent per request and
# context switches per request, machine-wide (/proc/net/snmp OutSegs, /proc/stat ctxt: run it on a quiet
# machine). Prints a markdown table of the medians and the per-round values. Everything it starts is stopped
# on exit.
set -euo pipefail

ROUNDS=5 DURATION=10s WARMUP=5s
while (($#)); do
  case $1 in
    --rounds) ROUNDS=${2:?}; shift 2 ;;
    --duration) DURATION=${2:?}; shift 2 ;;
    --warmup) WARMUP=${2:?}; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--duration D] [--warmup D]" >&2; exit 2 ;;
  esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "cost-split.sh: --rounds must be a positive whole number" >&2; exit 2; }
[[ "$DURATION" =~ ^[1-9][0-9]*s$ && "$WARMUP" =~ ^[0-9]+s$ ]] || { echo "cost-split.sh: durations are seconds, like 10s" >&2; exit 2; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
log() { echo "cost-split.sh: $*" >&2; }
LOOPBACK=127.0.0.1 BACKEND_PORT=18080 TLS_PROVIDER=auto PAIR_PROTOCOL=auto RATE_LIMIT=on HAPROXY_THREADS=2
source bench/scripts/lib/pair-lib.sh
need_pkg wrk wrk; need_pkg curl curl; need_pkg openssl openssl; need_pkg haproxy haproxy; need_pkg bc bc
work_dir cost-split
JAVA="$(find_java)"
[[ -f bench/target/benchmarks.jar ]] || { log "build first: ./mvnw -B -q -DskipTests package"; exit 1; }
issue_certs
"$JAVA" -cp bench/target/benchmarks.jar dev.outrider.bench.load.BenchJwt --jwks "$WORK/jwks.json" --token "$WORK/token.txt"
TOKEN="$(cat "$WORK/token.txt")"; JWT_JWKS_FILE="$WORK/jwks.json"; PAIR_CHECK_HEADER="Authorization: Bearer $TOKEN"
start_backend
start_pair false
start_haproxy_pair
TICK=$(getconf CLK_TCK)
ticks() { awk -v f="$1" '{ s += $f } END { print s }' "/proc/$2/stat" "/proc/$3/stat"; }
segs() { awk '/^Tcp:/ { n++; if (n == 2) print $12 }' /proc/net/snmp; }
ctxt() { awk '/^ctxt/ { print $2 }' /proc/stat; }
declare -A VALUES=()
log "$(uptime | sed 's/.*load/load/')"
for r in $(seq 1 "$ROUNDS"); do
  for t in outrider haproxy; do
    if [[ $t == outrider ]]; then url="http://$LOOPBACK:$A_UP/" p1=$A_PID p2=$B_PID; else url="http://$LOOPBACK:$HA_UP/" p1=$HA_PID p2=$HB_PID; fi
    timeout $(( ${WARMUP%s} + 20 )) wrk -t2 -c32 -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
    u0=$(ticks 14 "$p1" "$p2"); k0=$(ticks 15 "$p1" "$p2"); s0=$(segs); c0=$(ctxt)
    n=$(timeout $(( ${DURATION%s} + 20 )) wrk -t2 -c32 -d"$DURATION" -H "Authorization: Bearer $TOKEN" "$url" | awk '/requests in/ { print $1 }')
    u1=$(ticks 14 "$p1" "$p2"); k1=$(ticks 15 "$p1" "$p2"); s1=$(segs); c1=$(ctxt)
    VALUES[$t.rps]+="$(echo "scale=0; $n / ${DURATION%s}" | bc) "
    VALUES[$t.user]+="$(echo "scale=1; ($u1 - $u0) * 1000000 / $TICK / $n" | bc) "
    VALUES[$t.sys]+="$(echo "scale=1; ($k1 - $k0) * 1000000 / $TICK / $n" | bc) "
    VALUES[$t.segs]+="$(echo "scale=2; ($s1 - $s0) / $n" | bc) "
    VALUES[$t.ctxt]+="$(echo "scale=2; ($c1 - $c0) / $n" | bc) "
    log "round $r: $t: $n requests"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "| pair | req/s | user CPU ms per 1k req (A+B) | system CPU ms per 1k req (A+B) | TCP segments per request | context switches per request |"
echo "|---|---:|---:|---:|---:|---:|"
for t in outrider haproxy; do
  echo "| $t | $(median "${VALUES[$t.rps]}") | $(median "${VALUES[$t.user]}") | $(median "${VALUES[$t.sys]}") | $(median "${VALUES[$t.segs]}") | $(median "${VALUES[$t.ctxt]}") |"
done
echo
for t in outrider haproxy; do
  echo "- $t per round: req/s ${VALUES[$t.rps]}; user ${VALUES[$t.user]}; system ${VALUES[$t.sys]}"
done
echo "- $(date -u +%FT%TZ), $(nproc) CPUs, $(uptime | sed 's/.*load/load/'); wrk -t2 -c32 -d$DURATION after a $WARMUP warm-up per run"
