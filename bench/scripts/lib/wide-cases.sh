# shellcheck shell=bash
# compare.sh's wider cases (sourced, not run): the max-throughput runs of the 1k, 64k, c256 and h2 cases, the
# checks before them and their part of the report. Expects from the caller: the measure-lib.sh helpers, WORK,
# PIDS, TOKEN, URL/SIDES, DURATION, WARMUP, THREADS, CONNECTIONS, WIDE_CONNECTIONS, H2_CLIENTS, H2_STREAMS,
# H2_THREADS, CASES/has_case, TARGETS, log(), and for the report label(), sidepair() and ratio_h().

# measure_wide CASE TARGET ROUND: one max-throughput run of a wider case (1k, 64k, c256: wrk; h2: h2load), with
# CPU per 1k requests of each proxy process over the measured run and RSS right after it.
measure_wide() {
  local c=$1 t=$2 r=$3 side secs=${DURATION%s} warm=${WARMUP%s} url conns out n load
  declare -A before
  out="$WORK/$t.$c.$r.out"
  if [[ "$c" == h2 ]]; then
    url=${H2URL[$t]:-}
    [[ -n "$url" ]] || return 0  # no h2 front: "–" in the report, the reason in H2_NOTE
    log "round $r: $t: $c (h2load -c $H2_CLIENTS -m $H2_STREAMS -t $H2_THREADS, warm-up $WARMUP, $DURATION)"
    rm -f "$WORK/$t.$c.$r.log"
    # h2load counts only the requests of the measured duration (after --warm-up-time, on the same
    # connections), so the CPU snapshot is taken when its warm-up ends.
    local warm_up=()
    ((warm > 0)) && warm_up=(--warm-up-time "$warm")
    timeout $(( secs + warm + 20 )) h2load -c "$H2_CLIENTS" -m "$H2_STREAMS" -t "$H2_THREADS" -D "$secs" \
      "${warm_up[@]}" -H "Authorization: Bearer $TOKEN" --log-file "$WORK/$t.$c.$r.log" "$url" >"$out" 2>&1 &
    load=$!; PIDS+=("$load")
    sleep "$warm"
    for side in ${SIDES[$t]}; do before[$side]=$(cpu_ticks "${!side}"); done
    wait "$load" || log "round $r: $t: $c: h2load ended with status $? (see the errors column)"
    forget_pid "$load"
    n=$(h2load_done "$out")
    put "$t" "${c}_rps" "$(h2load_rps "$out")"
    put "$t" "${c}_p99" "$(h2load_p99 "$WORK/$t.$c.$r.log")"
    put "$t" "${c}_errors" "$(h2load_errors "$out")"
  else
    url=${URL[$t]}; conns=$CONNECTIONS
    case $c in
      1k|64k) url+=$c ;;
      c256) conns=$WIDE_CONNECTIONS ;;
    esac
    log "round $r: $t: $c (wrk -t$THREADS -c$conns $url, warm-up $WARMUP, $DURATION)"
    if ((warm > 0)); then
      timeout $(( warm + 20 )) wrk -t"$THREADS" -c"$conns" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$url" >/dev/null
    fi
    for side in ${SIDES[$t]}; do before[$side]=$(cpu_ticks "${!side}"); done
    timeout $(( secs + 20 )) wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$url" >"$out"
    n=$(awk '/requests in/ {print $1}' "$out")
    put "$t" "${c}_rps" "$(awk '/^Requests\/sec:/ {print $2}' "$out")"
    put "$t" "${c}_p99" "$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
    put "$t" "${c}_errors" "$(errors_of_file "$out")"
  fi
  for side in ${SIDES[$t]}; do
    put "$t" "${c}_cpu_$side" "$(cpu_ms_per_1k $(( $(cpu_ticks "${!side}") - before[$side] )) "$n")"
    put "$t" "${c}_rss_$side" "$(rss_mib_of "${!side}")"
  done
}
forget_pid() { # PID: no longer one to stop on exit (it ended; its number may be reused)
  local p keep=()
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# check_body NAME URL SIZE [curl options]: a 200 with a body of SIZE bytes through the target.
check_body() {
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 "${@:4}" -H "Authorization: Bearer $TOKEN" "$2" || true)
  [[ "$got" == "200 $3" ]] || { log "$1: $2 answered '$got', expected '200 $3' (status, body bytes)"; exit 1; }
}
# h2_front TARGET URL: the target's h2c front if curl gets a 200 over HTTP/2 with prior knowledge there; else
# "–" in the report with the answer as the reason.
h2_front() {
  local got
  got=$(curl -s -o /dev/null -w '%{http_code} HTTP/%{http_version}' --max-time 5 --http2-prior-knowledge \
    -H "Authorization: Bearer $TOKEN" "$2" 2>&1 || true)
  if [[ "$got" == "200 HTTP/2" ]]; then H2URL[$1]=$2; else H2_NOTE[$1]="h2c prior knowledge at $2 answered '$got'"; log "$1: ${H2_NOTE[$1]}"; fi
}
declare -A H2URL H2_NOTE


# ---- report ------------------------------------------------------------------------------------------------
case_label() {
  case $1 in
    base) echo "base: 64 B body, wrk -t$THREADS -c$CONNECTIONS" ;;
    1k) echo "1 KiB body, wrk -t$THREADS -c$CONNECTIONS" ;;
    64k) echo "64 KiB body, wrk -t$THREADS -c$CONNECTIONS" ;;
    c256) echo "$WIDE_CONNECTIONS connections, wrk -t$THREADS -c$WIDE_CONNECTIONS, 64 B body" ;;
    h2) echo "HTTP/2 client, h2load -c $H2_CLIENTS -m $H2_STREAMS -t $H2_THREADS, 64 B body" ;;
  esac
}
sum_of() { [[ -s "$WORK/m/$1.$2" ]] && awk '{s += $1} END {print s + 0}' "$WORK/m/$1.$2" || echo "?"; }  # target metric

# The case's median req/s and CPU per 1k requests on B of TARGET (base: its max-throughput run).
case_rps() { if [[ $2 == base ]]; then median "$1" rps; else median "$1" "$2_rps"; fi; }  # target case
case_cpu_b() { # target case
  local b=${SIDES[$1]##* }
  [[ -n "$b" ]] || { echo "?"; return; }
  if [[ $2 == base ]]; then median "$1" "cpu_max_$b"; else median "$1" "$2_cpu_$b"; fi
}

# wide_report: the wider cases' table, the ratios to the HAProxy pair per case (base included) and Outrider's
# worst case; nothing when no wider case ran.
wide_report() {
  local c t wide="" worst="" worst_rps="" worst_cpu="" worst_cpu_case="" rr rc
  for c in $CASES; do [[ $c == base ]] || wide+="$c "; done
  [[ -n "$wide" ]] || return 0
  echo
  echo "### Wider comparison: maximum throughput per case"
  echo
  echo "| case | target | max req/s | p99 ms | errors (all rounds) | CPU ms per 1k req (A / B) | RSS MiB after the run (A / B) |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for c in $wide; do
    for t in $TARGETS; do
      if [[ $c == h2 && -z "${H2URL[$t]:-}" ]]; then
        echo "| $(case_label "$c") | $(label "$t") | – | – | – | – | – |"
        continue
      fi
      echo "| $(case_label "$c") | $(label "$t") | $(fmt "$(median "$t" "${c}_rps")" 0) | $(fmt "$(median "$t" "${c}_p99")" 3) | $(sum_of "$t" "${c}_errors") | $(sidepair "$t" "${c}_cpu" 1) | $(sidepair "$t" "${c}_rss" 1) |"
    done
  done
  if [[ " $TARGETS " == *" outrider "* && " $TARGETS " == *" haproxy "* ]]; then
    echo
    echo "Per case, ÷ the HAProxy pair (medians; req/s above 1.00 and CPU below 1.00 favour the pair named):"
    echo
    echo "| case | Outrider ÷ HAProxy: max req/s | Outrider ÷ HAProxy: CPU/1k req (B) |$( [[ " $TARGETS " == *" nginx "* ]] && echo " nginx ÷ HAProxy: max req/s | nginx ÷ HAProxy: CPU/1k req (B) |")"
    echo "|---|---:|---:|$( [[ " $TARGETS " == *" nginx "* ]] && echo "---:|---:|")"
    for c in $CASES; do
      rr=$(ratio_h "$(case_rps outrider "$c")" "$(case_rps haproxy "$c")")
      rc=$(ratio_h "$(case_cpu_b outrider "$c")" "$(case_cpu_b haproxy "$c")")
      echo "| $(case_label "$c") | $rr | $rc |$( [[ " $TARGETS " == *" nginx "* ]] && echo " $(ratio_h "$(case_rps nginx "$c")" "$(case_rps haproxy "$c")") | $(ratio_h "$(case_cpu_b nginx "$c")" "$(case_cpu_b haproxy "$c")") |")"
      if [[ $rr != – ]] && { [[ -z "$worst_rps" ]] || awk -v a="$rr" -v b="$worst_rps" 'BEGIN {exit !(a < b)}'; }; then
        worst=$c worst_rps=$rr
      fi
      if [[ $rc != – ]] && { [[ -z "$worst_cpu" ]] || awk -v a="$rc" -v b="$worst_cpu" 'BEGIN {exit !(a > b)}'; }; then
        worst_cpu_case=$c worst_cpu=$rc
      fi
    done
    echo
    if [[ -n "$worst" ]]; then
      echo "Outrider's worst case vs HAProxy by max req/s: **$(case_label "$worst")**, ${worst_rps}× HAProxy's req/s$( [[ -n "$worst_cpu" ]] && echo "; by CPU per 1k requests on B: **$(case_label "$worst_cpu_case")**, ${worst_cpu}× HAProxy's")."
    else
      echo "Outrider's worst case vs HAProxy: – (no case with both figures)."
    fi
  fi
  echo
  echo "Per-round max req/s of the wider cases:"
  for c in $wide; do
    for t in $TARGETS; do
      [[ -s "$WORK/m/$t.${c}_rps" ]] && echo "- $c, $t: $(tr '\n' ' ' <"$WORK/m/$t.${c}_rps")"
    done
  done
  return 0
}

# wide_notes: how the wider cases ran, as report bullet points.
wide_notes() {
  local t
  has_case 1k || has_case 64k || has_case c256 || has_case h2 || return 0
  echo "- Wider cases: each target in turn per case and round (the order rotates every round), a $WARMUP warm-up, then $DURATION measured; CPU per 1k requests over the measured run only; RSS right after it. Bodies by path from BenchBackend: / 64 B, /1k 1,024 B, /64k 65,536 B (checked through every target with curl before the load)."
  if has_case h2; then
    echo "- h2 case: \`h2load -c $H2_CLIENTS -m $H2_STREAMS -t $H2_THREADS -D ${DURATION%s} --warm-up-time ${WARMUP%s}\` (h2c with prior knowledge; h2load counts only the measured duration's requests, and CPU is sampled from the end of its warm-up); p99 = nearest rank of the per-request times in h2load's --log-file. Fronts: direct = BenchBackend (h2c), Outrider A's upstream port (detects h2c prior knowledge), haproxy A \`bind ... proto h2\`, nginx A \`listen ... http2\` (plaintext); between A and B each pair speaks what it speaks in the other cases."
    for t in $TARGETS; do
      [[ -n "${H2_NOTE[$t]:-}" ]] && echo "- h2 case, $t: – because the $(label "$t") has no working h2c front here: ${H2_NOTE[$t]}."
    done
    echo "- $(h2load --version 2>/dev/null | head -n 1)"
  fi
  return 0
}
