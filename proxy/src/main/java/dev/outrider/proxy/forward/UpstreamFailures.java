package dev.outrider.proxy.forward;

import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.UpstreamIdentityException;
import dev.outrider.proxy.upstream.UpstreamTlsException;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;

/**
 * The forwarding layer's refusals, as values: what the caller gets when no upstream gave a response
 * ({@link Exchange} turns them into responses through {@link dev.outrider.proxy.http.LocalResponses}). The texts
 * name the service and the kind of failure, never an upstream address.
 */
final class UpstreamFailures {
    /** 502: the upstream closed or reset before its response headers (and the request could not be retried). */
    static final LocalRejection CLOSED_BEFORE_HEADERS = new LocalRejection(HttpResponseStatus.BAD_GATEWAY,
            "upstream connection closed before response headers");
    /** 504: no response headers within {@code upstream.requestTimeout} (or no bytes for the idle timeout). */
    static final LocalRejection TIMEOUT = new LocalRejection(HttpResponseStatus.GATEWAY_TIMEOUT,
            "upstream request timeout");

    /** 502: the upstream switched to a protocol the caller's upgrade request did not offer (RFC 9110 §15.2.2). */
    static final LocalRejection UPGRADE_NOT_OFFERED = new LocalRejection(HttpResponseStatus.BAD_GATEWAY,
            "upstream switched to a protocol the request did not offer");

    private UpstreamFailures() {
    }

    /** 503: no endpoint of {@code cluster} could be connected to; {@code lastFailure} is the last attempt's. */
    static LocalRejection connectError(Cluster cluster, Throwable lastFailure) {
        return new LocalRejection(HttpResponseStatus.SERVICE_UNAVAILABLE,
                "upstream connect error: service " + cluster.name() + ": " + describe(lastFailure));
    }

    /** What the router said (an unknown service, a request that names none). */
    static LocalRejection of(NoRoute noRoute) {
        return new LocalRejection(noRoute.status(), noRoute.message());
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return "no endpoint available";
        }
        if (t instanceof UpstreamIdentityException || t instanceof UpstreamTlsException) {
            return t.getMessage();
        }
        if (t instanceof ConnectException) {
            return "connection refused";
        }
        if (t instanceof ConnectTimeoutException) {
            return "connect timeout";
        }
        if (t instanceof ClosedChannelException) {
            return "connection closed";
        }
        return t.getClass().getSimpleName();
    }
}
