/**
 * The workload certificate's lifecycle on the sidecar: bootstrap with a join or service-account token, renewal at
 * half-life over mTLS, and the checks and atomic writes of the files the proxy's TLS reloader and the control-plane
 * client read. Uses {@code dev.outrider.core.client} for the API; what it publishes is the set of files
 * ({@link dev.outrider.core.identity.CertificateFiles}), replaced atomically.
 *
 * <pre>
 *  WorkloadCertificates   caller's thread: bootstrap (join or SA token) ─▶ files;  "outrider-certificates": renew
 *    │                    at half-life (mTLS) ─▶ bundle, key (0600), certificate, atomically ─▶ onRenewed
 *    ├─ CertificateStatus     what the files are good for now (pure): FRESH, AGING, UNUSABLE
 *    ├─ CertificateRequests   a fresh key and its CSR
 *    └─ CertificateInstaller  check an issued certificate, then write bundle, key, certificate
 * </pre>
 */
package dev.outrider.core.identity;
