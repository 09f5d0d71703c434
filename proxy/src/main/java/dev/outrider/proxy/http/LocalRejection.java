package dev.outrider.proxy.http;

import io.netty.handler.codec.http.HttpResponseStatus;

import static java.util.Objects.requireNonNull;

/**
 * A refusal as a value: the request is answered here, with {@code status} and a short text, instead of being
 * forwarded. A handler decides (its refusals are mostly constants, so refusing allocates no value); one layer,
 * {@link LocalResponses}, turns the value into the response (text, or gRPC's status fields) and ends what must
 * end after it, as linkerd2-proxy turns errors into responses at the edge of its stack. The handlers that
 * refuse: {@link RequestGuardHandler}, {@link PathNormalizationHandler}, {@link Http1HeaderTimeoutHandler}, the
 * inbound checks (authentication, authorization, rate limits) and forwarding (no route, upstream failures).
 *
 * @param status  the status sent (a gRPC caller gets 200 and the matching {@code grpc-status})
 * @param message what happened, in words an operator can search for; never a token, a policy's internals or an
 *                upstream address beyond what the caller already knows
 */
public record LocalRejection(HttpResponseStatus status, String message) {
    public LocalRejection {
        requireNonNull(status, "status");
        requireNonNull(message, "message");
    }
}
