/**
 * The snapshot watch: keeps the sidecar's policy snapshot current and its registration alive. Uses
 * {@code dev.outrider.core.client} for the API and {@code dev.outrider.core.snapshot} to verify and keep
 * snapshots; what the proxy reads ({@link dev.outrider.core.watch.WatchState}) is immutable, a new one published
 * after every change.
 *
 * <pre>
 *  SnapshotWatcher   caller's thread: last-known-good ─▶ apply;  "outrider-snapshot-watch": register,
 *    │               long poll ─▶ verify ─▶ apply ─▶ last-known-good ─▶ ACK / NACK
 *    └─ SnapshotIntake   one received snapshot through the gate: verify ─▶ apply ─▶ keep ─▶ result
 * </pre>
 */
package dev.outrider.core.watch;
