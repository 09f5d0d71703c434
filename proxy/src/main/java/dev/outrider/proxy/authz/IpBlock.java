package dev.outrider.proxy.authz;

import java.net.InetAddress;

/**
 * A CIDR block ({@code 10.0.0.0/8}, {@code 2001:db8::/32}, or one address) compiled to its masked bytes and
 * prefix length; {@link #contains} compares against the connection's pre-parsed address without allocating.
 * An IPv4 block also contains the IPv4-mapped IPv6 form of its addresses ({@code ::ffff:a.b.c.d}). Immutable.
 */
final class IpBlock {
    private final byte[] network;
    private final int prefix;

    private IpBlock(byte[] network, int prefix) {
        this.network = network;
        this.prefix = prefix;
    }

    /** @throws IllegalArgumentException naming the block when it is not an IP literal with a valid prefix */
    static IpBlock parse(String cidr) {
        int slash = cidr.indexOf('/');
        String address = slash < 0 ? cidr : cidr.substring(0, slash);
        byte[] bytes;
        try {
            bytes = InetAddress.ofLiteral(address).getAddress(); // a literal only: never a DNS lookup
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + cidr + "' is not an IP address or CIDR block");
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(cidr.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("'" + cidr + "' has a prefix length outside 0.." + max);
            }
        }
        for (int bit = prefix; bit < max; bit++) { // host bits do not take part
            bytes[bit >> 3] &= (byte) ~(0x80 >>> (bit & 7));
        }
        return new IpBlock(bytes, prefix);
    }

    boolean contains(byte[] ip) {
        if (ip == null) {
            return false;
        }
        int offset = 0;
        if (ip.length != network.length) {
            if (network.length == 4 && ip.length == 16 && isV4Mapped(ip)) {
                offset = 12;
            } else {
                return false;
            }
        }
        int full = prefix >> 3;
        for (int i = 0; i < full; i++) {
            if (ip[offset + i] != network[i]) {
                return false;
            }
        }
        int rest = prefix & 7;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (ip[offset + full] & mask) == (network[full] & 0xff);
    }

    private static boolean isV4Mapped(byte[] ip) {
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    }

    static boolean any(IpBlock[] blocks, byte[] ip) {
        for (IpBlock b : blocks) {
            if (b.contains(ip)) {
                return true;
            }
        }
        return false;
    }
}
