package dev.outrider.proxy.metrics;

/** Which listener a request or connection belongs to; the value of the {@code direction} metric tag. */
public enum Direction {
    /** mTLS from other sidecars, forwarded to the local application. */
    INBOUND("inbound"),
    /** Plaintext from the local application, forwarded over mTLS to another sidecar. */
    OUTBOUND("outbound");

    private final String tag;

    Direction(String tag) {
        this.tag = tag;
    }

    /** The tag value ({@code inbound} / {@code outbound}); a constant, so the hot path allocates nothing. */
    public String tag() {
        return tag;
    }
}
