#!/usr/bin/env bash
# Creates what the Outrider control plane and the sidecars need before the control plane first runs
# (docs/kubernetes.md, step 2), and applies it with kubectl:
#
#   outrider-system  Secret outrider-ca           ca.pem, ca.key         the mesh CA (certs/mesh-ca.sh init)
#                    Secret outrider-signing-key  signing-key.pem        signs snapshots (EC P-256)
#                    ConfigMap outrider-k8s       issuer, jwks.json      the cluster's service-account issuer
#                    Secret outrider-etcd-tls     ca.pem, server.pem,    etcd's own CA and the members' serving
#                                                 server.key             and peer certificate (etcd.yaml)
#                    Secret outrider-etcd-client  ca.pem, client.pem,    the control plane's client certificate
#                                                 client.key             for etcd (--client-cert-auth)
#   each NAMESPACE   ConfigMap outrider-mesh      ca.pem,                mounted by every sidecar at
#                                                 snapshot-keys.json     /etc/outrider/mesh
#
#   docker/kubernetes/mesh-secrets.sh [options] [NAMESPACE...]      (default namespace: shop)
#     --trust-domain TD   the CA's trust domain when it is made (default cluster.local)
#     --k8s-issuer URL    the service-account issuer (default: from kubectl get --raw /.well-known/openid-configuration)
#     --k8s-jwks FILE     its JWK Set (default: kubectl get --raw /openid/v1/jwks)
#     --out DIR           write the manifests to DIR and apply nothing (review, GitOps); DIR holds key material
#
# The CA and the signing key are made once and kept next to certs/mesh-ca.sh (certs/out/ca/, certs/out/
# snapshot-signing-key.pem; git-ignored, mode 600) and reused on later runs, so running this again (a new
# namespace, a rotated issuer key) changes nothing else. The public keys come from the signing key with
# `outrider control-plane snapshot-keys`. Private keys are never printed.
#
# Needs bash, openssl, base64 and, for the public keys, a JDK 25 (the launcher builds what is missing).
# Environment: OUTRIDER_MESH_CA (default certs/mesh-ca.sh; the keys go to its out/ directory),
# OUTRIDER_CP_COMMAND (default "./outrider control-plane"), KUBECTL (default kubectl).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MESH_CA="${OUTRIDER_MESH_CA:-$ROOT/certs/mesh-ca.sh}"
CP_COMMAND="${OUTRIDER_CP_COMMAND:-$ROOT/outrider control-plane}"
KUBECTL="${KUBECTL:-kubectl}"

die() { echo "mesh-secrets: $*" >&2; exit 1; }
usage() { sed -n '12,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

trust_domain=cluster.local
issuer=""
jwks=""
out=""
namespaces=()
while (($#)); do
  case $1 in
    --trust-domain) trust_domain=${2:?--trust-domain needs a value}; shift 2 ;;
    --k8s-issuer) issuer=${2:?--k8s-issuer needs a value}; shift 2 ;;
    --k8s-jwks) jwks=${2:?--k8s-jwks needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "mesh-secrets: unknown option $1" >&2; usage ;;
    *) namespaces+=("$1"); shift ;;
  esac
done
((${#namespaces[@]})) || namespaces=(shop)
for ns in "${namespaces[@]}"; do
  [[ ${#ns} -le 63 && $ns =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "namespace '$ns' is not an RFC 1123 DNS label"
done
[[ -x $MESH_CA ]] || die "no $MESH_CA (set OUTRIDER_MESH_CA)"

state="$(dirname "$MESH_CA")/out"
ca_dir="$state/ca"
signing_key="$state/snapshot-signing-key.pem"
snapshot_keys="$state/snapshot-keys.json"

# 1. The mesh CA, made once.
if [[ -s $ca_dir/ca.pem && -s $ca_dir/ca.key ]]; then
  echo "mesh-secrets: using the mesh CA in $ca_dir"
else
  "$MESH_CA" init --trust-domain "$trust_domain"
fi

# 2. The snapshot signing key, made once, and its public JWK Set.
# shellcheck disable=SC2086 # CP_COMMAND is a command and its leading arguments
$CP_COMMAND snapshot-keys --signing-key "$signing_key" --generate --out "$snapshot_keys" \
  || die "could not make the snapshot keys with: $CP_COMMAND snapshot-keys"
echo "mesh-secrets: snapshot signing key $signing_key (mode 600), public keys $snapshot_keys"

# 2b. etcd's own CA (not the mesh CA: etcd trusts only its members and the control plane), the members'
# certificate (serving and peer: *.outrider-etcd.outrider-system.svc) and the control plane's client
# certificate; made once, EC P-256, valid three years.
etcd_dir="$state/etcd"
mkdir -p "$etcd_dir"
chmod 700 "$etcd_dir"
etcd_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null && chmod 600 "$1"; }
etcd_cert() { # name subject extensions
  local ext="$etcd_dir/$1.ext"
  printf '%s\n' "$3" >"$ext"
  etcd_key "$etcd_dir/$1.key"
  openssl req -new -key "$etcd_dir/$1.key" -subj "$2" -out "$etcd_dir/$1.csr" 2>/dev/null
  openssl x509 -req -in "$etcd_dir/$1.csr" -CA "$etcd_dir/ca.pem" -CAkey "$etcd_dir/ca.key" -CAcreateserial \
    -days 1095 -sha256 -extfile "$ext" -out "$etcd_dir/$1.pem" 2>/dev/null
  rm -f "$etcd_dir/$1.csr" "$ext"
}
if [[ -s $etcd_dir/ca.pem && -s $etcd_dir/server.pem && -s $etcd_dir/client.pem ]]; then
  echo "mesh-secrets: using the etcd certificates in $etcd_dir"
else
  etcd_key "$etcd_dir/ca.key"
  openssl req -x509 -new -key "$etcd_dir/ca.key" -sha256 -days 1095 -subj "/CN=outrider-etcd-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$etcd_dir/ca.pem" 2>/dev/null || die "openssl could not make the etcd CA"
  etcd_cert server "/CN=outrider-etcd" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:*.outrider-etcd.outrider-system.svc,DNS:*.outrider-etcd.outrider-system.svc.cluster.local,DNS:outrider-etcd.outrider-system.svc,DNS:localhost,IP:127.0.0.1" \
    || die "openssl could not make the etcd members' certificate"
  etcd_cert client "/CN=outrider-control-plane" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth" || die "openssl could not make the control plane's etcd client certificate"
  echo "mesh-secrets: etcd CA, member and client certificates in $etcd_dir (keys mode 600)"
fi

# 3. The service-account issuer and its keys.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -z $issuer ]]; then
  issuer="$("$KUBECTL" get --raw /.well-known/openid-configuration | sed -n 's/.*"issuer" *: *"\([^"]*\)".*/\1/p')" \
    || die "could not read the service-account issuer (kubectl get --raw /.well-known/openid-configuration); give --k8s-issuer"
  [[ -n $issuer ]] || die "no issuer in /.well-known/openid-configuration; give --k8s-issuer"
fi
if [[ -z $jwks ]]; then
  jwks="$work/jwks.json"
  "$KUBECTL" get --raw /openid/v1/jwks >"$jwks" \
    || die "could not read the issuer's keys (kubectl get --raw /openid/v1/jwks); give --k8s-jwks"
fi
[[ $issuer =~ ^https:// ]] || die "the service-account issuer '$issuer' is not an https:// URL"
[[ -s $jwks ]] || die "--k8s-jwks $jwks is empty or missing"
grep -Eq '"keys"[[:space:]]*:[[:space:]]*\[' "$jwks" || die "$jwks is not a JWK Set (no \"keys\": [...])"

# 4. The manifests.
# A ConfigMap/Secret data entry: the file as a YAML block scalar ('|-' when it has no final newline).
block() { # key file
  local chomp="|"
  [[ -n $(tail -c 1 "$2") ]] && chomp="|-"
  printf '  %s: %s\n' "$1" "$chomp"
  sed 's/^/    /' "$2"
  [[ $chomp == "|-" ]] && echo
  return 0
}
secret_entry() { # key file
  printf '  %s: %s\n' "$1" "$(base64 -w0 <"$2")"
}
namespace_doc() { # name [labels...]
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n' "$1"
  if (($# > 1)); then
    printf '  labels:\n'
    printf '    %s\n' "${@:2}"
  fi
}
printf '%s\n' "$issuer" >"$work/issuer"

manifests="${out:-$work/manifests}"
mkdir -p "$manifests"
(
  umask 077
  {
    echo "# Generated by docker/kubernetes/mesh-secrets.sh: holds private keys; do not commit."
    namespace_doc outrider-system "pod-security.kubernetes.io/enforce: restricted"
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: outrider-ca\n  namespace: outrider-system\ntype: Opaque\ndata:\n'
    secret_entry ca.pem "$ca_dir/ca.pem"
    secret_entry ca.key "$ca_dir/ca.key"
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: outrider-signing-key\n  namespace: outrider-system\ntype: Opaque\ndata:\n'
    secret_entry signing-key.pem "$signing_key"
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outrider-k8s\n  namespace: outrider-system\ndata:\n'
    printf '  issuer: "%s"\n' "$issuer"
    block jwks.json "$jwks"
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: outrider-etcd-tls\n  namespace: outrider-system\ntype: Opaque\ndata:\n'
    secret_entry ca.pem "$etcd_dir/ca.pem"
    secret_entry server.pem "$etcd_dir/server.pem"
    secret_entry server.key "$etcd_dir/server.key"
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: outrider-etcd-client\n  namespace: outrider-system\ntype: Opaque\ndata:\n'
    secret_entry ca.pem "$etcd_dir/ca.pem"
    secret_entry client.pem "$etcd_dir/client.pem"
    secret_entry client.key "$etcd_dir/client.key"
  } >"$manifests/outrider-system.yaml"
)
{
  echo "# Generated by docker/kubernetes/mesh-secrets.sh: the mesh CA and the snapshot keys (public) per namespace."
  first=1
  for ns in "${namespaces[@]}"; do
    ((first)) || echo "---"
    first=0
    namespace_doc "$ns"
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outrider-mesh\n  namespace: %s\ndata:\n' "$ns"
    block ca.pem "$ca_dir/ca.pem"
    block snapshot-keys.json "$snapshot_keys"
  done
} >"$manifests/outrider-mesh.yaml"

if [[ -n $out ]]; then
  echo "mesh-secrets: wrote $out/outrider-system.yaml (Secrets: keep it private) and $out/outrider-mesh.yaml"
  echo "mesh-secrets: apply with: $KUBECTL apply -f $out/outrider-system.yaml -f $out/outrider-mesh.yaml"
  exit 0
fi
"$KUBECTL" apply -f "$manifests/outrider-system.yaml" -f "$manifests/outrider-mesh.yaml"
echo "mesh-secrets: outrider-system has outrider-ca, outrider-signing-key, outrider-k8s, outrider-etcd-tls," \
  "outrider-etcd-client;" \
  "outrider-mesh is in: ${namespaces[*]}"
