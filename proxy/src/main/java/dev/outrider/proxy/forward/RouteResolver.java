package dev.outrider.proxy.forward;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Picks where a request goes. Called on the event loop for every request: must not block and should not
 * allocate on the success path (return prebuilt {@link Route}s).
 */
@FunctionalInterface
public interface RouteResolver {
    /**
     * @param connection the downstream connection (for HTTP/2, the connection, not the stream): its local
     *                   address tells which listener or explicit upstream port the request came in on
     */
    RouteResult resolve(HttpRequest request, Channel connection);
}
