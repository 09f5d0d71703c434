package dev.outrider.controlplane.cli;

import picocli.CommandLine;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;

/**
 * {@code --listen HOST:PORT} ({@code 0.0.0.0:15010}, {@code 127.0.0.1:0}, {@code [::]:15010}); read with
 * {@link URI}'s authority parser, so IPv6 literals need their brackets. Port 0 means any free port.
 */
final class ListenAddress implements CommandLine.ITypeConverter<InetSocketAddress> {
    @Override
    public InetSocketAddress convert(String text) {
        URI uri;
        try {
            uri = new URI("tcp://" + text);
        } catch (URISyntaxException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not HOST:PORT: " + e.getReason());
        }
        if (uri.getHost() == null || uri.getPort() < 0 || !uri.getRawPath().isEmpty() || uri.getRawQuery() != null
                || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
            throw new CommandLine.TypeConversionException("'" + text
                    + "' is not HOST:PORT (IPv6 in brackets: [::]:15010)");
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (uri.getPort() > 65535) {
            throw new CommandLine.TypeConversionException("port " + uri.getPort() + " is out of range");
        }
        return new InetSocketAddress(host, uri.getPort());
    }
}
