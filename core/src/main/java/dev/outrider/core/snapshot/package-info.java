/**
 * Signed policy snapshots: what the control plane compiled for one workload, and how the sidecar decides to
 * trust it.
 *
 * <pre>
 *  control plane                              sidecar (snapshot-watch thread, never an event loop)
 *  WorkloadSnapshot ─▶ SnapshotSigner ─JWS─▶ SnapshotVerifier.verifyAndParse(jws, appliedVersion)
 *                      (ES256, kid)            │ refused: SnapshotException(reason), keep the current snapshot
 *                                              ▼ accepted
 *                                           apply (swap the AtomicReference) ─▶ LastKnownGood.store(jws, version)
 *                                                                               (snapshot file, then its floor)
 *  after a restart:  LastKnownGood.load() ─▶ SnapshotVerifier.verify(jws) ─▶ LastKnownGoodCheck (floor, max age)
 *                                         ─▶ apply until the control plane answers
 * </pre>
 */
package dev.outrider.core.snapshot;
