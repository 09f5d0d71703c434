#!/usr/bin/env bash
# The control plane's AOT training run, at image build time (docker/control-plane.Dockerfile, stage "aot"):
#   1. a throwaway mesh CA (certs/mesh-ca.sh, openssl) and a development admin token;
#   2. the control plane started by the image's own entry point with OUTRIDER_AOT=train (the same java, flags
#      and jars as at run time);
#   3. a few hundred API calls as an operator and as a sidecar would make them: resources written and listed
#      (each write re-signs snapshots), join tokens, certificates issued for CSRs, registrations, snapshot
#      reads and status reports;
#   4. SIGTERM: it closes and exits, and the JVM writes $OUTRIDER_HOME/aot/control-plane.aot.
# Needs bash, curl and openssl; leaves nothing behind but the cache and its fingerprint.
#
#   train-control-plane.sh [ROUNDS]    (default 60 rounds of writes and reads)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUTRIDER_HOME="${OUTRIDER_HOME:-/opt/outrider}"
MESH_CA="${MESH_CA:-$here/../../certs/mesh-ca.sh}"
rounds="${1:-60}"
port="${TRAINING_CONTROL_PLANE_PORT:-15010}"

die() { echo "train-control-plane: $*" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/outrider-training.XXXXXX")"
pid=""
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { cat "$work/control-plane.log" >&2 2>/dev/null; die "$*"; }

# 1. Throwaway CA (mesh-ca.sh writes next to itself: run a copy) and admin token.
mkdir -p "$work/certs" "$work/data" "$work/tmp"
cp "$MESH_CA" "$work/certs/mesh-ca.sh"
"$work/certs/mesh-ca.sh" init --days 1 >/dev/null
ca="$work/certs/out/ca"
(umask 077 && openssl rand -hex 32 >"$work/admin-token")

# 2. The control plane, through the entry point, writing the AOT cache at exit.
rm -f "$OUTRIDER_HOME/aot/control-plane.aot" "$OUTRIDER_HOME/aot/control-plane.aot.fingerprint"
OUTRIDER_AOT=train "$OUTRIDER_HOME/bin/control-plane-entrypoint" --listen "127.0.0.1:$port" \
  --data-dir "$work/data" --ca-cert "$ca/ca.pem" --ca-key "$ca/ca.key" \
  --admin-token-file "$work/admin-token" >"$work/control-plane.log" 2>&1 &
pid=$!

api="https://127.0.0.1:$port"
admin=(--cacert "$ca/ca.pem" -H "Authorization: Bearer $(<"$work/admin-token")")
call() { # expected-status curl-args...: one call; prints the body
  local want=$1 body status
  shift
  body="$(curl -sS --cacert "$ca/ca.pem" -w '\n%{http_code}' "$@")" || fail "curl $* failed"
  status="${body##*$'\n'}"
  [[ $status == "$want" ]] || fail "expected $want from curl $*, got $status: ${body%$'\n'*}"
  printf '%s' "${body%$'\n'*}"
}
json_field() { # name: the string value of a top-level field of the JSON on stdin (PEM newlines unescaped)
  local v
  v="$(sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1)"
  printf '%b' "$v"
}

for _ in $(seq 1 600); do
  curl -sf --cacert "$ca/ca.pem" "$api/v1/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || fail "the control plane exited before it answered"
  sleep 0.1
done
call 200 "$api/v1/health" >/dev/null

# 3. Operator and sidecar calls.
service() { # name
  printf 'apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {name: %s, namespace: shop}\nspec:\n  protocol: http2\n  serviceAccounts: [%s]\n' "$1" "$1"
}
policy() { # round
  cat <<YAML
apiVersion: outrider.dev/v1
kind: AuthorizationPolicy
metadata: {name: orders-allow-frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  action: ALLOW
  rules:
    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
      to: [{operation: {methods: ["GET"], paths: ["/hello", "/round/$1"]}}]
YAML
}
limits() {
  cat <<YAML
apiVersion: outrider.dev/v1
kind: RateLimitPolicy
metadata: {name: orders-limits, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  rules:
    - {name: per-caller, key: source.principal, limit: {requests: 100, per: 1s}, maxInFlight: 10}
YAML
}
sidecar() { # the mesh's default Sidecar: each workload's snapshot carries its own namespace's services
  printf 'apiVersion: outrider.dev/v1\nkind: Sidecar\nmetadata: {name: default, namespace: outrider-system}\nspec:\n  egress:\n  - hosts: ["./*"]\n'
}
yaml=(-H "Content-Type: application/yaml")
for s in orders frontend; do
  service "$s" | call 201 "${admin[@]}" "${yaml[@]}" -X PUT --data-binary @- "$api/v1/namespaces/shop/services/$s" >/dev/null
done
limits | call 201 "${admin[@]}" "${yaml[@]}" -X PUT --data-binary @- "$api/v1/namespaces/shop/ratelimitpolicies/orders-limits" >/dev/null
sidecar | call 201 "${admin[@]}" "${yaml[@]}" -X PUT --data-binary @- "$api/v1/namespaces/outrider-system/sidecarscopes/default" >/dev/null

# A sidecar's bootstrap: join token → CSR → certificate; then it registers and reads its snapshot.
sidecar_certificate() { # service-account → $work/<sa>.{key,pem}
  local sa=$1 token
  token="$(call 201 "${admin[@]}" -H "Content-Type: application/json" \
    --data "{\"namespace\": \"shop\", \"serviceAccount\": \"$sa\", \"ttl\": \"10m\"}" "$api/v1/join-tokens" | json_field token)"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$sa.key" -subj "/CN=$sa.shop" \
    -addext "subjectAltName=URI:spiffe://cluster.local/ns/shop/sa/$sa" -out "$work/$sa.csr" 2>/dev/null
  local csr
  csr="$(awk '{printf "%s\\n", $0}' "$work/$sa.csr")"
  call 200 -H "Authorization: Bearer $token" -H "Content-Type: application/json" --data "{\"csr\": \"$csr\"}" \
    "$api/v1/certificates" | json_field certificateChain >"$work/$sa.pem"
}
as_sidecar=(--cert "$work/orders.pem" --key "$work/orders.key")
for round in $(seq 1 "$rounds"); do
  created=200
  ((round == 1)) && created=201
  policy "$round" | call "$created" "${admin[@]}" "${yaml[@]}" -X PUT --data-binary @- \
    "$api/v1/namespaces/shop/authorizationpolicies/orders-allow-frontend" >/dev/null
  call 200 "${admin[@]}" "$api/v1/namespaces/shop/authorizationpolicies" >/dev/null
  call 200 "${admin[@]}" "$api/v1/services" >/dev/null
  if ((round % 10 == 1)); then
    sidecar_certificate orders
    call 200 "${as_sidecar[@]}" -H "Content-Type: application/json" \
      --data "{\"service\": \"orders\", \"instance\": \"orders-$round\", \"address\": \"10.0.0.$round:15006\"}" \
      "$api/v1/registrations" >/dev/null
  fi
  version="$(curl -sS "${as_sidecar[@]}" --cacert "$ca/ca.pem" -D - -o /dev/null \
    "$api/v1/snapshots/shop/orders?after=0&wait=0" | tr -d '\r' | sed -n 's/^[Oo]utrider-[Ss]napshot-[Vv]ersion: *//p')"
  [[ -n $version ]] || fail "no snapshot version in round $round"
  call 204 "${as_sidecar[@]}" -H "Content-Type: application/json" \
    --data "{\"instance\": \"orders-1\", \"version\": \"$version\", \"result\": \"ACK\"}" "$api/v1/sidecars/status" >/dev/null
  call 200 "${admin[@]}" "$api/v1/sidecars" >/dev/null
  call 200 "$api/v1/snapshot-keys" >/dev/null
done
call 404 "${admin[@]}" "$api/v1/namespaces/shop/services/nope" >/dev/null
call 401 "$api/v1/services" >/dev/null

# 4. Close, exit, cache written by the JVM (and its assembly run) before the process ends.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
((status == 0)) || fail "the control plane exited with $status after SIGTERM"
[[ -s $OUTRIDER_HOME/aot/control-plane.aot ]] || fail "no AOT cache was written"
echo "train-control-plane: $OUTRIDER_HOME/aot/control-plane.aot ($(du -h "$OUTRIDER_HOME/aot/control-plane.aot" | cut -f1))"
