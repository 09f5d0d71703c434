#!/usr/bin/env bash
# The sidecar's AOT training run, at image build time (docker/sidecar.Dockerfile, stage "aot"):
#   1. a throwaway mesh CA and a certificate for outrider-system/training (certs/mesh-ca.sh, openssl);
#   2. the sidecar started with OUTRIDER_AOT=train (the same java, flags and jars as at run time) by the image's
#      own entry point, or by the program TRAINING_SIDECAR (./outrider, the launcher, which trains its cache with
#      this script too), configured by docker/training/sidecar.yaml to call itself over mTLS;
#   3. a few hundred requests through it (allowed, denied, with and without a JWT, a bad one; by Host header and
#      by upstream port; HTTP/1.1 and h2c from curl, which the sidecar forwards to itself in the same protocol),
#      and the admin and health endpoints;
#   4. SIGTERM: it drains and exits, and the JVM writes the cache: TRAINING_AOT_CACHE, by default
#      $OUTRIDER_HOME/aot/sidecar.aot (the image's).
# Needs bash, curl and openssl; leaves nothing behind but the cache (and the image's fingerprint of it).
# TRAINING_HEALTHCHECK: docker/bin/healthcheck's path (default $OUTRIDER_HOME/bin/healthcheck); TRAINING_*_PORT:
# the sidecar's listeners (defaults: its usual ports, free in an image build).
#
#   train-sidecar.sh [REQUESTS]    (default 300 per kind of request)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUTRIDER_HOME="${OUTRIDER_HOME:-/opt/outrider}"
MESH_CA="${MESH_CA:-$here/../../certs/mesh-ca.sh}"
requests="${1:-300}"
sidecar="${TRAINING_SIDECAR:-$OUTRIDER_HOME/bin/sidecar-entrypoint}"
cache="${TRAINING_AOT_CACHE:-$OUTRIDER_HOME/aot/sidecar.aot}"
healthcheck="${TRAINING_HEALTHCHECK:-$OUTRIDER_HOME/bin/healthcheck}"
export TRAINING_INBOUND_PORT="${TRAINING_INBOUND_PORT:-15006}" TRAINING_OUTBOUND_PORT="${TRAINING_OUTBOUND_PORT:-15001}"
export TRAINING_UPSTREAM_PORT="${TRAINING_UPSTREAM_PORT:-15101}" TRAINING_HEALTH_PORT="${TRAINING_HEALTH_PORT:-15021}"
export TRAINING_ADMIN_PORT="${TRAINING_ADMIN_PORT:-15000}"

die() { echo "train-sidecar: $*" >&2; exit 1; }

TRAINING_DIR="$(mktemp -d "${TMPDIR:-/tmp}/outrider-training.XXXXXX")"
export TRAINING_DIR
pid=""
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$TRAINING_DIR"
}
trap cleanup EXIT

# 1. Throwaway CA and certificate (mesh-ca.sh writes next to itself: run a copy in the training directory).
mkdir -p "$TRAINING_DIR/certs" "$TRAINING_DIR/policies" "$TRAINING_DIR/run"
cp "$MESH_CA" "$TRAINING_DIR/certs/mesh-ca.sh"
"$TRAINING_DIR/certs/mesh-ca.sh" init --days 1 >/dev/null
"$TRAINING_DIR/certs/mesh-ca.sh" issue outrider-system training --days 1 >/dev/null
cp "$here/policies.yaml" "$TRAINING_DIR/policies/"
# A throwaway Ed25519 key: a RequestAuthentication with its JWK Set, and a token it signs (openssl signs the JWS
# input as it is; base64url by hand), so the training requests go through JWT authentication too.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
openssl genpkey -algorithm ed25519 -out "$TRAINING_DIR/jwt-key.pem" 2>/dev/null
jwk_x="$(openssl pkey -in "$TRAINING_DIR/jwt-key.pem" -pubout -outform DER | tail -c 32 | b64url)"
cat >"$TRAINING_DIR/policies/jwt.yaml" <<YAML
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: training-jwt, namespace: outrider-system}
spec:
  selector: {matchLabels: {app: training}}
  jwtRules:
    - issuer: https://training.outrider.dev
      audiences: [training]
      jwks: '{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"training","x":"$jwk_x"}]}'
YAML
jws_input="$(printf '{"alg":"EdDSA","kid":"training"}' | b64url).$(printf \
  '{"iss":"https://training.outrider.dev","aud":"training","sub":"trainer","exp":%d}' $(($(date +%s) + 86400)) | b64url)"
printf '%s' "$jws_input" >"$TRAINING_DIR/jws-input"
token="$jws_input.$(openssl pkeyutl -sign -inkey "$TRAINING_DIR/jwt-key.pem" -rawin -in "$TRAINING_DIR/jws-input" | b64url)"

# 2. The sidecar, through the entry point, writing the AOT cache at exit.
rm -f "$cache" "$cache.fingerprint"
OUTRIDER_AOT=train TRAINING_AOT_CACHE="$cache" OUTRIDER_RUN_DIR="$TRAINING_DIR/run" \
  OUTRIDER_MESH_DIR="$TRAINING_DIR/certs/out/ca" \
  "$sidecar" proxy --config "$here/sidecar.yaml" >"$TRAINING_DIR/sidecar.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  "$healthcheck" "$TRAINING_HEALTH_PORT" /ready && break
  kill -0 "$pid" 2>/dev/null || { cat "$TRAINING_DIR/sidecar.log" >&2; die "the sidecar exited before it was ready"; }
  sleep 0.1
done
"$healthcheck" "$TRAINING_HEALTH_PORT" /ready \
  || { cat "$TRAINING_DIR/sidecar.log" >&2; die "the sidecar was not ready within 60 s"; }

# 3. Requests. Each curl reuses its connection across the URL range.
out="http://127.0.0.1:$TRAINING_OUTBOUND_PORT"
up="http://127.0.0.1:$TRAINING_UPSTREAM_PORT"
host=(-H "Host: training.outrider-system")
expect() { # status curl-args...: every response must have this status
  local want=$1 got
  shift
  got="$(curl -sS -o /dev/null -w '%{http_code}\n' "$@" | sort | uniq -c | awk '{print $2}' | paste -sd' ')"
  [[ $got == "$want" ]] || { cat "$TRAINING_DIR/sidecar.log" >&2; die "expected only $want from curl $*, got: $got"; }
}
expect 200 "${host[@]}" "$out/ready?i=[1-$requests]"
expect 200 "$up/live?i=[1-$requests]"
expect 200 -H "Authorization: Bearer $token" "$up/live?i=[1-$requests]"
expect 401 -H "Authorization: Bearer ${token}x" "$up/live?i=[1-10]"
# h2c: one request per curl (curl 7.88 fails the second request of an h2c prior-knowledge connection it reuses).
for i in $(seq 1 $((requests / 20))); do
  expect 200 --http2-prior-knowledge -H "Authorization: Bearer $token" "$up/live?h2=$i"
done
expect 403 "$up/denied?i=[1-$((requests / 3))]"
expect 200 --head "$up/ready?i=[1-$((requests / 3))]"
expect 200 "http://127.0.0.1:$TRAINING_ADMIN_PORT/metrics?i=[1-10]"
expect 200 "http://127.0.0.1:$TRAINING_ADMIN_PORT/config?i=[1-10]"
expect 200 "http://127.0.0.1:$TRAINING_HEALTH_PORT/live?i=[1-10]"

# 4. Drain, exit, cache written by the JVM (and its assembly run) before the process ends.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
((status == 0)) || { cat "$TRAINING_DIR/sidecar.log" >&2; die "the sidecar exited with $status after SIGTERM"; }
[[ -s $cache ]] || { cat "$TRAINING_DIR/sidecar.log" >&2; die "no AOT cache was written"; }
echo "train-sidecar: $cache ($(du -h "$cache" | cut -f1))"
