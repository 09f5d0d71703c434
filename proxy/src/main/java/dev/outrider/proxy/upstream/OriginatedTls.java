package dev.outrider.proxy.upstream;

import io.netty.handler.ssl.SslContext;

import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * TLS the sidecar originates to an external server (a ServiceEntry's HTTPS port, or {@code tls.mode: SIMPLE}): the
 * client context (trust: the entry's CA bundle or the JDK's default trust store; hostname verification on), and the
 * name sent as SNI and verified in the server's certificate. No client certificate is presented.
 *
 * @param context  built once per ServiceEntry when the snapshot is compiled (never on an event loop)
 * @param sni      the SNI and the name the server's certificate must carry
 * @param service  names the entry in errors ({@code ServiceEntry shop/api host api.example.com})
 * @param failures told the reason of each failed handshake (a counter; called on the event loop, must not block)
 */
public record OriginatedTls(SslContext context, String sni, String service, Consumer<OriginatedTlsException.Reason> failures) {
    public OriginatedTls {
        requireNonNull(context, "context");
        requireNonNull(sni, "sni");
        requireNonNull(service, "service");
        requireNonNull(failures, "failures");
        if (!context.isClient()) {
            throw new IllegalArgumentException("not a client context");
        }
    }
}
