#!/usr/bin/env bash
# Development mesh CA for Outrider: a root CA and SPIFFE workload certificates, made with openssl only.
# Everything goes to certs/out/ (git-ignored). Not for production: see certs/README.md for cert-manager/SPIRE.
#
#   certs/mesh-ca.sh init [--trust-domain cluster.local] [--days 3650] [--force]
#   certs/mesh-ca.sh issue NAMESPACE SERVICE_ACCOUNT [--trust-domain TD] [--days 30] [--rsa] [--next]
#   certs/mesh-ca.sh rotate-ca [--days 3650] [--force]
#   certs/mesh-ca.sh finish-rotation
#   certs/mesh-ca.sh examples
#
# Invariants: private keys are written with mode 600 and are never printed; a leaf carries exactly one
# URI SAN, spiffe://TD/ns/NS/sa/SA; ca-bundle.pem next to a leaf holds every root currently trusted.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${SCRIPT_DIR}/out"
CA_DIR="${OUT}/ca"

die() { echo "mesh-ca: $*" >&2; exit 1; }

usage() {
  sed -n '5,9p' "${BASH_SOURCE[0]}" | sed 's/^#   /usage: /' >&2
  exit 2
}

command -v openssl >/dev/null 2>&1 \
  || die "openssl not found on PATH; install it (Debian/Ubuntu: apt-get install openssl, macOS: brew install openssl)"

# Staging inside OUT, so moving a finished file into place is a rename on one file system.
mkdir -p "${OUT}"
TMP="$(mktemp -d "${OUT}/.staging.XXXXXX")"
trap 'rm -rf "${TMP}"' EXIT

# RFC 1123 label: what Kubernetes accepts for namespace and service account names.
check_label() { # what value
  [[ ${#2} -le 63 && $2 =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] \
    || die "$1 '$2' is not an RFC 1123 DNS label (lowercase letters, digits, '-', 1-63 chars, alphanumeric at both ends)"
}

# SPIFFE trust domain: lowercase letters, digits, '.', '-', '_' (SPIFFE ID spec, section 2.1).
check_trust_domain() {
  [[ ${#1} -le 255 && $1 =~ ^[a-z0-9._-]+$ ]] \
    || die "trust domain '$1' must be lowercase letters, digits, '.', '-' or '_'"
}

check_days() {
  [[ $1 =~ ^[1-9][0-9]*$ ]] || die "--days '$1' must be a positive whole number"
}

# A fresh key, PKCS#8 PEM, mode 600 from the moment it exists.
new_key() { # file ec|rsa
  local algo=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)
  [[ $2 == rsa ]] && algo=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
  (umask 077 && openssl genpkey "${algo[@]}" -out "$1" 2>/dev/null) || die "could not generate a key in $1"
  chmod 600 "$1"
}

# 128 random bits as a positive serial number (RFC 5280 section 4.1.2.2: at most 20 octets).
serial() { echo "0x$(openssl rand -hex 16)"; }

# Extensions for roots and leaves; the leaf's SAN is filled in per issue.
write_config() { # file spiffe-uri key-usage
  cat >"$1" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $3
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = URI:$2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

new_root() { # name trust-domain days
  local key="${CA_DIR}/$1.key" cert="${CA_DIR}/$1.pem"
  mkdir -p "${CA_DIR}"
  write_config "${TMP}/openssl.cnf" "unused" "digitalSignature"
  new_key "${key}" ec
  openssl req -x509 -new -sha256 -key "${key}" -days "$3" -set_serial "$(serial)" \
    -subj "/O=Outrider dev mesh/OU=$2/CN=Outrider dev root CA ($1, $(date -u +%Y-%m-%dT%H:%M:%SZ))" \
    -config "${TMP}/openssl.cnf" -extensions root -out "${cert}" 2>/dev/null \
    || die "could not create the root certificate ${cert}"
  chmod 644 "${cert}"
  echo "$2" >"${CA_DIR}/trust-domain"
  echo "root CA:  ${cert}"
  echo "root key: ${key} (mode 600)"
}

# The roots every workload must trust right now: both during a rotation, otherwise the one root.
current_bundle() {
  if [[ -f ${CA_DIR}/bundle.pem ]]; then echo "${CA_DIR}/bundle.pem"; else echo "${CA_DIR}/ca.pem"; fi
}

cmd_init() {
  local td=cluster.local days=3650 force=0
  while (($#)); do
    case $1 in
      --trust-domain) td=${2:?--trust-domain needs a value}; shift 2 ;;
      --days) days=${2:?--days needs a value}; shift 2 ;;
      --force) force=1; shift ;;
      *) usage ;;
    esac
  done
  check_trust_domain "${td}"
  check_days "${days}"
  if [[ -e ${CA_DIR}/ca.pem || -e ${CA_DIR}/ca.key ]] && ((force == 0)); then
    die "a CA already exists in ${CA_DIR}; use --force to replace it (every issued leaf then needs reissuing)"
  fi
  rm -f "${CA_DIR}"/ca.pem "${CA_DIR}"/ca.key "${CA_DIR}"/ca-next.* "${CA_DIR}"/ca-old.* "${CA_DIR}"/bundle.pem
  new_root ca "${td}" "${days}"
  echo "trust domain: ${td}"
}

cmd_issue() {
  (($# >= 2)) || usage
  local ns=$1 sa=$2 td="" days=30 kind=ec signer=ca
  shift 2
  while (($#)); do
    case $1 in
      --trust-domain) td=${2:?--trust-domain needs a value}; shift 2 ;;
      --days) days=${2:?--days needs a value}; shift 2 ;;
      --rsa) kind=rsa; shift ;;
      --next) signer=ca-next; shift ;;
      *) usage ;;
    esac
  done
  check_label namespace "${ns}"
  check_label "service account" "${sa}"
  check_days "${days}"
  [[ -f ${CA_DIR}/${signer}.pem && -f ${CA_DIR}/${signer}.key ]] \
    || die "no ${signer} in ${CA_DIR}; run '$0 $([[ ${signer} == ca ]] && echo init || echo rotate-ca)' first"
  local ca_td
  ca_td="$(cat "${CA_DIR}/trust-domain" 2>/dev/null || echo cluster.local)"
  [[ -n ${td} ]] || td=${ca_td}
  check_trust_domain "${td}"
  [[ ${td} == "${ca_td}" ]] || echo "mesh-ca: warning: the CA was made for trust domain ${ca_td}, issuing for ${td}" >&2

  local uri="spiffe://${td}/ns/${ns}/sa/${sa}" dir="${OUT}/${ns}/${sa}" usage=digitalSignature
  [[ ${kind} == rsa ]] && usage="digitalSignature, keyEncipherment"
  mkdir -p "${dir}"
  write_config "${TMP}/openssl.cnf" "${uri}" "${usage}"
  # Key and certificate are made in TMP and renamed into place only once all three exist, so a failure
  # leaves the old set intact (the three renames are not one atomic step: see certs/README.md, Reloading).
  new_key "${TMP}/key.pem" "${kind}"
  openssl req -new -sha256 -key "${TMP}/key.pem" -subj "/CN=${sa}.${ns}" -config "${TMP}/openssl.cnf" \
    -out "${TMP}/leaf.csr" 2>/dev/null || die "could not create the CSR"
  openssl x509 -req -sha256 -in "${TMP}/leaf.csr" -CA "${CA_DIR}/${signer}.pem" -CAkey "${CA_DIR}/${signer}.key" \
    -set_serial "$(serial)" -days "${days}" -extfile "${TMP}/openssl.cnf" -extensions leaf \
    -out "${TMP}/cert.pem" 2>/dev/null || die "could not sign the certificate"
  chmod 644 "${TMP}/cert.pem"
  cp "$(current_bundle)" "${TMP}/ca-bundle.pem"
  chmod 644 "${TMP}/ca-bundle.pem"
  mv -f "${TMP}/key.pem" "${dir}/key.pem"
  mv -f "${TMP}/cert.pem" "${dir}/cert.pem"
  mv -f "${TMP}/ca-bundle.pem" "${dir}/ca-bundle.pem"
  echo "identity:  ${uri} (${kind}, ${days} days, signed by ${signer})"
  echo "cert:      ${dir}/cert.pem"
  echo "key:       ${dir}/key.pem (mode 600)"
  echo "ca bundle: ${dir}/ca-bundle.pem"
}

# Rotation step 1: a second root, and a bundle with both. Leaves issued afterwards get the bundle;
# reissue every leaf (still from the old root) so every workload trusts both, then issue with --next.
cmd_rotate_ca() {
  local days=3650 force=0
  while (($#)); do
    case $1 in
      --days) days=${2:?--days needs a value}; shift 2 ;;
      --force) force=1; shift ;;
      *) usage ;;
    esac
  done
  check_days "${days}"
  [[ -f ${CA_DIR}/ca.pem ]] || die "no CA in ${CA_DIR}; run '$0 init' first"
  if [[ -e ${CA_DIR}/ca-next.pem ]] && ((force == 0)); then
    die "a rotation is already under way (${CA_DIR}/ca-next.pem); finish it or use --force"
  fi
  new_root ca-next "$(cat "${CA_DIR}/trust-domain" 2>/dev/null || echo cluster.local)" "${days}"
  cat "${CA_DIR}/ca.pem" "${CA_DIR}/ca-next.pem" >"${CA_DIR}/bundle.pem"
  echo "bundle:   ${CA_DIR}/bundle.pem (old and new root)"
  echo "next: reissue every leaf (bundle with both roots), then reissue with --next, then finish-rotation"
}

# Rotation step 3: the new root becomes the only root; the old one is kept as ca-old.* for reference.
cmd_finish_rotation() {
  (($# == 0)) || usage
  [[ -f ${CA_DIR}/ca-next.pem && -f ${CA_DIR}/ca-next.key ]] || die "no rotation under way (no ${CA_DIR}/ca-next.pem)"
  mv -f "${CA_DIR}/ca.pem" "${CA_DIR}/ca-old.pem"
  mv -f "${CA_DIR}/ca.key" "${CA_DIR}/ca-old.key"
  mv -f "${CA_DIR}/ca-next.pem" "${CA_DIR}/ca.pem"
  mv -f "${CA_DIR}/ca-next.key" "${CA_DIR}/ca.key"
  rm -f "${CA_DIR}/bundle.pem"
  echo "root CA: ${CA_DIR}/ca.pem (the former ca-next); old root kept as ${CA_DIR}/ca-old.pem"
  echo "next: reissue every leaf so its ca-bundle.pem holds only the new root"
}

# What examples/sidecar-a.yaml (frontend) and examples/sidecar-b.yaml (orders) use.
cmd_examples() {
  (($# == 0)) || usage
  [[ -f ${CA_DIR}/ca.pem ]] || cmd_init
  cmd_issue shop frontend
  cmd_issue shop orders
}

(($#)) || usage
cmd=$1
shift
case ${cmd} in
  init) cmd_init "$@" ;;
  issue) cmd_issue "$@" ;;
  rotate-ca) cmd_rotate_ca "$@" ;;
  finish-rotation) cmd_finish_rotation "$@" ;;
  examples) cmd_examples "$@" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
