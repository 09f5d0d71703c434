#!/usr/bin/env bash
# Compose demo, step 2 ("setup", once the control plane is healthy): what an operator does before workloads
# start, through the control plane's API with `outrider ctl` (the admin token from mesh-init):
#   - applies the example services and policies (examples/mesh/services.yaml, examples/policies/);
#   - writes one join token per sidecar to the volume join (/var/lib/outrider/join/<service-account>);
#   - puts the mesh CA and the control plane's public snapshot keys in the volume mesh, which the sidecars
#     mount read-only at /etc/outrider/mesh (the outrider-mesh ConfigMap's role in Kubernetes).
# Runs again on every `docker compose up` (fresh single-use tokens; a sidecar that still has its certificate
# in its run volume does not need one). Runs in the outrider/tools image as 65532.
set -euo pipefail

export OUTRIDER_SERVER="${OUTRIDER_SERVER:-https://control-plane:15010}"
export OUTRIDER_CA=/etc/outrider/ca/ca.pem
export OUTRIDER_TOKEN_FILE=/etc/outrider/admin/token
examples="${OUTRIDER_EXAMPLES:-/examples}"
ctl() { /opt/outrider-tools/bin/outrider ctl "$@"; }

for _ in $(seq 1 60); do
  curl -sf --cacert "$OUTRIDER_CA" "$OUTRIDER_SERVER/v1/health" >/dev/null && break
  sleep 1
done

ctl apply -f "$examples/mesh/services.yaml" -f "$examples/policies/"

for account in ${OUTRIDER_JOIN_ACCOUNTS:-orders frontend}; do
  (umask 077 && ctl join-token create --namespace shop --service-account "$account" --ttl 24h \
    >"/var/lib/outrider/join/.$account.tmp")
  mv -f "/var/lib/outrider/join/.$account.tmp" "/var/lib/outrider/join/$account"
done

curl -sSf --cacert "$OUTRIDER_CA" "$OUTRIDER_SERVER/v1/snapshot-keys" >/var/lib/outrider/mesh/.snapshot-keys.json.tmp
mv -f /var/lib/outrider/mesh/.snapshot-keys.json.tmp /var/lib/outrider/mesh/snapshot-keys.json
cp "$OUTRIDER_CA" /var/lib/outrider/mesh/.ca.pem.tmp
mv -f /var/lib/outrider/mesh/.ca.pem.tmp /var/lib/outrider/mesh/ca.pem
echo "setup: services and policies applied; join tokens and mesh files written"
