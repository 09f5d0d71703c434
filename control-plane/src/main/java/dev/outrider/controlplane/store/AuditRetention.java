package dev.outrider.controlplane.store;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * How much of the audit trail a {@link Store} keeps ({@link Store#appendAudit}): at most {@code maxRecords} records,
 * none recorded more than {@code maxAge} before the newest. Both bounds hold after every append.
 *
 * @param maxRecords 1 to {@value #MAX_RECORDS} (the file store holds them in memory as well)
 * @param maxAge     1 minute to 3650 days
 */
public record AuditRetention(int maxRecords, Duration maxAge) {
    /** The upper limit of {@code maxRecords}: about 50 MB of records at 500 bytes each. */
    public static final int MAX_RECORDS = 100_000;
    public static final Duration MIN_AGE = Duration.ofMinutes(1);
    public static final Duration MAX_AGE = Duration.ofDays(3650);
    /** 10,000 records, 90 days. */
    public static final AuditRetention DEFAULT = new AuditRetention(10_000, Duration.ofDays(90));

    public AuditRetention {
        requireNonNull(maxAge, "maxAge");
        if (maxRecords < 1 || maxRecords > MAX_RECORDS) {
            throw new IllegalArgumentException("the audit trail keeps 1 to " + MAX_RECORDS + " records, not "
                    + maxRecords);
        }
        if (maxAge.compareTo(MIN_AGE) < 0 || maxAge.compareTo(MAX_AGE) > 0) {
            throw new IllegalArgumentException("the audit trail keeps records for 1m to 3650d, not "
                    + dev.outrider.core.document.Durations.format(maxAge));
        }
    }
}
