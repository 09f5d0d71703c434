package dev.outrider.proxy.http;

/**
 * User event fired through an HTTP/1.1 connection's pipeline when the sidecar drains: an idle connection
 * closes at once, a busy one after its current response (sent with {@code Connection: close}).
 */
public final class DrainEvent {
    public static final DrainEvent INSTANCE = new DrainEvent();

    private DrainEvent() {
    }
}
