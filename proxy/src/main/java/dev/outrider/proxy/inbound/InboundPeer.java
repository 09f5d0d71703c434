package dev.outrider.proxy.inbound;

import dev.outrider.proxy.tls.PeerIdentity;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * What authorization needs from the connection, computed once per connection (and shared by its HTTP/2
 * streams): the caller's principal and namespace from its verified certificate, and its address.
 *
 * @param principal Istio's form of the caller's SPIFFE ID ({@code cluster.local/ns/shop/sa/frontend}), or
 *                  null without a peer certificate
 * @param namespace the caller's namespace, or null
 * @param ip        the caller's address bytes (4 or 16), or null when not an IP socket
 * @param address   the caller's address as text ({@link java.net.InetAddress#getHostAddress}), or null
 */
record InboundPeer(String principal, String namespace, byte[] ip, String address) {
    private static final AttributeKey<InboundPeer> KEY = AttributeKey.valueOf(InboundPeer.class, "peer");

    /** The peer of {@code ch}'s connection; event loop of that connection only (its streams share it). */
    static InboundPeer of(Channel ch) {
        Channel connection = ch instanceof Http2StreamChannel ? ch.parent() : ch;
        Attribute<InboundPeer> attr = connection.attr(KEY);
        InboundPeer peer = attr.get();
        if (peer == null) {
            peer = compute(connection);
            attr.set(peer);
        }
        return peer;
    }

    private static InboundPeer compute(Channel connection) {
        PeerIdentity identity = connection.attr(PeerIdentity.KEY).get();
        String principal = null;
        String namespace = null;
        if (identity != null) {
            principal = identity.id().principal();
            namespace = identity.id().namespace();
        }
        SocketAddress remote = connection.remoteAddress();
        InetAddress inet = remote instanceof InetSocketAddress a ? a.getAddress() : null;
        return inet == null ? new InboundPeer(principal, namespace, null, null)
                : new InboundPeer(principal, namespace, inet.getAddress(), inet.getHostAddress());
    }
}
