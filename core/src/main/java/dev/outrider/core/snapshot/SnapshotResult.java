package dev.outrider.core.snapshot;

/** What a sidecar did with a snapshot version, as {@code POST /v1/sidecars/status} reports it. */
public enum SnapshotResult {
    /** Verified, applied and in force. */
    ACK,
    /** Refused (verification or apply failed); the previous snapshot stays in force. */
    NACK
}
