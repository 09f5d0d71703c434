# Shared by compare.sh, jvm-flags.sh and overload-memory.sh (sourced, not run): per-process CPU and RSS from /proc, the
# metric files of a run (medians over rounds), the LoadGenerator run and wrk output parsing. Expects from the
# caller: WORK (with WORK/m), JAVA, RATE_CONNECTIONS, TOKEN, log().

CLK_TCK=$(getconf CLK_TCK)
procs() { # PID: the process and its children (nginx workers)
  echo "$1"; pgrep -P "$1" || true
}
cpu_ticks() { # PID: utime+stime of the process and its children, in clock ticks
  local t=0 p
  for p in $(procs "$1"); do
    t=$(( t + $(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0) ))
  done
  echo "$t"
}
rss_kib() { # PID: VmRSS of the process and its children
  local t=0 p
  for p in $(procs "$1"); do
    t=$(( t + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0) ))
  done
  echo "$t"
}
cpu_ms_per_1k() { # TICKS REQUESTS: CPU ms per 1,000 requests
  awk -v d="$1" -v hz="$CLK_TCK" -v n="$2" 'BEGIN { if (n > 0) printf "%.4f", d / hz * 1000 / (n / 1000); else print "?" }'
}
rss_mib_of() { awk -v k="$(rss_kib "$1")" 'BEGIN {printf "%.1f", k / 1024}'; }  # PID: VmRSS in MiB (with children)
put() { echo "$3" >>"$WORK/m/$1.$2"; }  # target metric value
median() { # target metric
  [[ -s "$WORK/m/$1.$2" ]] || { echo "?"; return; }
  sort -g "$WORK/m/$1.$2" | awk '{v[NR] = $1} END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m }'
}
fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { if (v == "?") print "?"; else printf "%.*f", d, v }'; }

declare -A URL SIDES
gen() { # NAME URL RATE DURATION WARMUP: one LoadGenerator run, JSON line to $WORK/NAME.json
  timeout $(( ${4%s} + ${5%s} + 30 )) "$JAVA" -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
    dev.outrider.bench.load.LoadGenerator --url "$2" -c "$RATE_CONNECTIONS" --rate "$3" --duration "$4" --warmup "$5" \
    -H "Authorization: Bearer $TOKEN" --label "$1" >"$WORK/$1.gen" 2>&1 || true
  grep '^RESULT ' "$WORK/$1.gen" | sed 's/^RESULT //' >"$WORK/$1.json" || { cat "$WORK/$1.gen" >&2; log "$1: generator failed"; exit 1; }
}
json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/$1.json" "$2"; }  # NAME FIELD

errors_of_file() {
  awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$1"
}
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "?" }'
}


# ---- h2load (compare.sh's HTTP/2 client case) -------------------------------------------------------------
h2load_rps() { awk '/^finished in/ {print $4 + 0}' "$1"; }           # OUTPUT: req/s over the measured duration
h2load_done() { awk '/^requests:/ {print $6 + 0}' "$1"; }            # OUTPUT: requests done in it
h2load_errors() { # OUTPUT: failed (non-2xx/3xx status or stream/connection error) + timed out
  awk '/^requests:/ {n = $10 + $14} END {print n + 0}' "$1"
}
h2load_p99() { # LOG (h2load --log-file: start µs, status, request time µs): nearest-rank p99 in ms
  [[ -s "$1" ]] || { echo "?"; return; }
  awk '{print $3}' "$1" | sort -n | awk '{v[NR] = $1} END { i = int(NR * 0.99); if (i < NR * 0.99) i++; printf "%.3f", v[i] / 1000 }'
}
