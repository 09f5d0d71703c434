package dev.outrider.proxy.tls;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.http.HeaderHygiene;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;

/**
 * Pipeline position: per request, after the request guard, before authentication and forwarding.
 *
 * <p>X-Forwarded-Client-Cert is an identity header: whatever a caller sends was removed on arrival, on both
 * listeners ({@link HeaderHygiene}). On inbound, with mTLS, a fresh one tells the application who called, in
 * Envoy's format:
 * {@code By=<this workload>;Hash=<sha256 of the caller's certificate>;URI=<caller's SPIFFE ID>}. Values are
 * quoted when they contain {@code , ; = "} (with {@code "} and {@code \} escaped), so no certificate
 * content can split or extend the header (the CVE-2023-27493 class); today's values are validated SPIFFE
 * IDs and hex, and the escaping keeps that true whatever the fields become.
 */
@ChannelHandler.Sharable
public final class ClientCertHeaderHandler extends ChannelInboundHandlerAdapter {
    private static final AsciiString XFCC = HeaderHygiene.X_FORWARDED_CLIENT_CERT;
    private static final AttributeKey<AsciiString> VALUE = AttributeKey.valueOf(ClientCertHeaderHandler.class, "xfcc");

    private final SpiffeId self;

    /** @param self this workload's identity, or null when the listener has no mTLS (nothing is set) */
    public ClientCertHeaderHandler(SpiffeId self) {
        this.self = self;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request && self != null) {
            AsciiString value = valueFor(ctx.channel());
            if (value != null) {
                request.headers().set(XFCC, value);
            }
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The header's value for the caller of {@code ch}'s connection, or null without a peer identity; made once
     * per connection (the peer and this workload do not change on it) and kept on the connection, as bytes.
     */
    private AsciiString valueFor(Channel ch) {
        Channel connection = PeerIdentity.connectionOf(ch);
        Attribute<AsciiString> cached = connection.attr(VALUE);
        AsciiString value = cached.get();
        if (value == null) {
            PeerIdentity peer = connection.attr(PeerIdentity.KEY).get();
            if (peer == null) {
                return null;
            }
            value = new AsciiString(value(self, peer));
            cached.set(value);
        }
        return value;
    }

    static String value(SpiffeId self, PeerIdentity peer) {
        return "By=" + quote(self.toString()) + ";Hash=" + quote(peer.certificateSha256())
                + ";URI=" + quote(peer.id().toString());
    }

    static String quote(String value) {
        boolean plain = true;
        for (int i = 0; i < value.length() && plain; i++) {
            char c = value.charAt(i);
            plain = c > 0x20 && c < 0x7f && c != ',' && c != ';' && c != '=' && c != '"' && c != '\\';
        }
        if (plain) {
            return value;
        }
        StringBuilder sb = new StringBuilder(value.length() + 8).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("%%%02X", (int) c)); // control characters never reach a header
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
