package dev.outrider.proxy.tls;

import dev.outrider.core.model.SpiffeId;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;

import static java.util.Objects.requireNonNull;

/**
 * Who is at the other end of a connection, as proven by its certificate: the caller's identity on inbound
 * (the source principal authorization and throttling key on), the upstream's on outbound. Attached to the
 * connection once, after the handshake; read by request handlers through {@link #of(Channel)}.
 *
 * @param certificateSha256 hex SHA-256 of the peer's DER certificate (the XFCC {@code Hash})
 */
public record PeerIdentity(SpiffeId id, String certificateSha256) {
    public static final AttributeKey<PeerIdentity> KEY = AttributeKey.valueOf(PeerIdentity.class, "peer");

    public PeerIdentity {
        requireNonNull(id, "id");
        requireNonNull(certificateSha256, "certificateSha256");
    }

    /** The identity of {@code ch}'s connection (for an HTTP/2 stream, of its parent), or null. */
    public static PeerIdentity of(Channel ch) {
        return connectionOf(ch).attr(KEY).get();
    }

    /** The connection {@code ch} belongs to: its parent for an HTTP/2 stream, else {@code ch} itself. */
    static Channel connectionOf(Channel ch) {
        return ch instanceof Http2StreamChannel ? ch.parent() : ch;
    }

    public static PeerIdentity from(X509Certificate leaf, String trustDomain) throws PeerCertificateException {
        try {
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()));
            return new PeerIdentity(PeerVerifier.spiffeId(leaf, trustDomain), hash);
        } catch (GeneralSecurityException e) {
            throw new PeerCertificateException(HandshakeFailure.UNTRUSTED, "unreadable peer certificate", e);
        }
    }
}
