#!/usr/bin/env bash
# Compose demo, step 1 ("mesh-init", before the control plane starts): a development mesh CA and an admin token,
# in the volumes the control plane and the setup step mount. Kept across `docker compose up` runs: a CA that
# exists is not replaced (sidecars' certificates stay valid). Runs in the outrider/tools image as 65532.
#
#   /var/lib/outrider/ca/ca.pem, ca.key     the mesh CA (volume mesh-ca; the key only ever in this volume)
#   /var/lib/outrider/admin/token           the control plane's development admin token (volume admin)
set -euo pipefail

ca_dir=/var/lib/outrider/ca
admin_dir=/var/lib/outrider/admin

if [[ -s $ca_dir/ca.pem && -s $ca_dir/ca.key ]]; then
  echo "mesh-init: the mesh CA exists; kept"
else
  # certs/mesh-ca.sh writes next to itself: run a copy in a scratch directory (tmpfs).
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cp /opt/outrider-tools/certs/mesh-ca.sh "$work/mesh-ca.sh"
  "$work/mesh-ca.sh" init --trust-domain "${OUTRIDER_TRUST_DOMAIN:-cluster.local}"
  (umask 077 && cp "$work/out/ca/ca.key" "$ca_dir/ca.key")
  cp "$work/out/ca/ca.pem" "$ca_dir/ca.pem"
  echo "mesh-init: mesh CA made ($ca_dir/ca.pem)"
fi

if [[ ! -s $admin_dir/token ]]; then
  (umask 077 && openssl rand -hex 32 >"$admin_dir/token")
  echo "mesh-init: admin token made ($admin_dir/token, volume admin)"
fi
