package dev.outrider.proxy.http;

/**
 * User event fired through a downstream connection's pipeline when the sidecar drains. HTTP/1.1: an idle
 * connection closes at once, a busy one after its current response (sent with {@code Connection: close}).
 * HTTP/2: GOAWAY, PING, final GOAWAY, close when the streams are done ({@link Http2DrainHandler}).
 */
public final class DrainEvent {
    public static final DrainEvent INSTANCE = new DrainEvent();

    private DrainEvent() {
    }
}
