package dev.outrider.proxy.outbound;

import dev.outrider.proxy.forward.RouteResolver;
import dev.outrider.proxy.forward.RouteResult;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpRequest;

import static java.util.Objects.requireNonNull;

/**
 * The outbound routing in force: an {@link OutboundRouter} replaced whole when the control plane sends new
 * endpoints. A request reads the reference once, so it routes by one table, old or new, never a mix.
 *
 * <p>Threading: {@link #replace} is called by the one thread that applies snapshots; {@link #resolve} by every
 * event loop. The field is {@code volatile} so a replacement is seen by the next request on any loop.
 */
public final class OutboundRoutes implements RouteResolver {
    private volatile OutboundRouter current;

    public OutboundRoutes(OutboundRouter initial) {
        this.current = requireNonNull(initial, "initial");
    }

    public void replace(OutboundRouter next) {
        this.current = requireNonNull(next, "next");
    }

    public OutboundRouter current() {
        return current;
    }

    @Override
    public RouteResult resolve(HttpRequest request, Channel connection) {
        return current.resolve(request, connection);
    }
}
