/**
 * The sidecar's side of the control plane (docs/control-plane.md): its API client, the workload certificate's
 * bootstrap and renewal, and the snapshot watch. Blocking work runs on the threads named here, never on an
 * event loop; what the proxy reads ({@link dev.outrider.core.client.WatchState}, the certificate files) is
 * immutable or replaced atomically.
 *
 * <pre>
 *  ControlPlaneClient ── JDK HttpClient, TLS 1.3: server = PKIX(trust bundle) + host name + control-plane SPIFFE ID
 *    │                   client = certificate files (re-read when they change) and/or bearer token
 *    ├─ WorkloadCertificates   caller's thread: bootstrap (join or SA token) ─▶ files;  "outrider-certificates": renew
 *    │                         at half-life (mTLS) ─▶ bundle, key (0600), certificate, atomically ─▶ onRenewed
 *    └─ SnapshotWatcher        caller's thread: last-known-good ─▶ apply;  "outrider-snapshot-watch": register,
 *                              long poll ─▶ verify ─▶ apply ─▶ last-known-good ─▶ ACK / NACK
 * </pre>
 */
package dev.outrider.core.client;
