package dev.outrider.controlplane.ca;

import dev.outrider.core.model.DnsLabel;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.GeneralName;

import java.net.InetAddress;
import java.util.Locale;

/**
 * The DNS and IP address SANs of a serving certificate (RFC 5280 §4.2.1.6). An IPv4 or IPv6 literal (read by
 * {@link InetAddress#ofLiteral}, which never resolves anything) becomes an iPAddress SAN of its 4 or 16 bytes;
 * anything else must be a DNS name of RFC 1123 labels (lower-cased; no wildcard, no trailing dot, at most
 * 253 characters) and becomes a dNSName SAN.
 */
final class ServerNames {
    private static final int MAX_DNS_LENGTH = 253;

    private ServerNames() {
    }

    static GeneralName generalName(String name) throws CaException {
        if (name == null || name.isEmpty()) {
            throw CaException.invalidRequest("server name must not be empty");
        }
        if (looksLikeIp(name)) {
            try {
                byte[] address = InetAddress.ofLiteral(stripBrackets(name)).getAddress();
                return new GeneralName(GeneralName.iPAddress, new DEROctetString(address));
            } catch (IllegalArgumentException e) {
                throw CaException.invalidRequest("server name '" + name + "' is not a valid IP address", e);
            }
        }
        String dns = name.toLowerCase(Locale.ROOT);
        if (dns.length() > MAX_DNS_LENGTH) {
            throw CaException.invalidRequest("server name '" + name + "' is longer than " + MAX_DNS_LENGTH + " characters");
        }
        for (String label : dns.split("\\.", -1)) {
            if (!DnsLabel.isValid(label)) {
                throw CaException.invalidRequest("server name '" + name
                        + "' is neither an IP address nor a DNS name of RFC 1123 labels");
            }
        }
        return new GeneralName(GeneralName.dNSName, dns);
    }

    /** IPv6 has a ':'; IPv4 is only digits and dots (a DNS name's last label is never all digits here). */
    private static boolean looksLikeIp(String name) {
        return name.indexOf(':') >= 0 || name.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.');
    }

    private static String stripBrackets(String name) {
        return name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name;
    }
}
