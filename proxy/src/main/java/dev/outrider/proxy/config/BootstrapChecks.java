package dev.outrider.proxy.config;

import dev.outrider.core.model.ServiceName;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Rules that span fields, run on the assembled config before it is handed out: unique services, upstream
 * ports that name known services, no two listeners on one address, admin on loopback only.
 */
final class BootstrapChecks {

    private BootstrapChecks() {
    }

    static void check(BootstrapConfig config, String source) {
        checkServices(config, source);
        checkUpstreams(config, source);
        checkListeners(config, source);
        checkAdminLoopback(config, source);
        checkControlPlane(config, source);
    }

    /**
     * With a control plane, policies come only from its snapshots and the certificate from its CA, so a
     * policy directory is refused (two sources would race) and mTLS must be on (the control plane is reached
     * over mTLS, and its CA issues the files {@code tls} names).
     */
    private static void checkControlPlane(BootstrapConfig config, String source) {
        if (!config.fromControlPlane()) {
            return;
        }
        if (config.policies().directory() != null) {
            throw new ConfigException(source, "policies.directory",
                    "not used when controlPlane is set: policies come from the control plane; remove one of them");
        }
        if (!config.tls().enabled()) {
            throw new ConfigException(source, "tls.mode",
                    "controlPlane needs mTLS (tls.mode: mtls): the control plane is reached over mTLS and issues the"
                            + " certificate");
        }
    }

    private static void checkServices(BootstrapConfig config, String source) {
        Map<ServiceName, Integer> seen = new HashMap<>();
        List<ServiceConfig> services = config.services();
        for (int i = 0; i < services.size(); i++) {
            Integer first = seen.putIfAbsent(services.get(i).name(), i);
            if (first != null) {
                throw new ConfigException(source, "services[" + i + "]",
                        "duplicate service " + services.get(i).name() + " (also services[" + first + "])");
            }
        }
    }

    private static void checkUpstreams(BootstrapConfig config, String source) {
        List<UpstreamPortConfig> upstreams = config.outbound().upstreams();
        for (int i = 0; i < upstreams.size(); i++) {
            ServiceName wanted = upstreams.get(i).service();
            if (config.fromControlPlane()) {
                continue; // the control plane's snapshots supply the service's endpoints
            }
            if (config.services().stream().noneMatch(s -> s.name().equals(wanted))) {
                String known = config.services().isEmpty() ? "none"
                        : config.services().stream().map(s -> s.name().toString()).collect(Collectors.joining(", "));
                throw new ConfigException(source, "outbound.upstreams[" + i + "].service",
                        wanted + " is not in services (known: " + known + ")");
            }
        }
    }

    private record Listener(String path, HostPort address) {
    }

    /**
     * Two listeners on one non-zero port conflict when their hosts are equal or either is a wildcard
     * (0.0.0.0 or ::), since the wildcard already holds that port on every address. Hosts are compared as
     * written: {@code localhost} and {@code 127.0.0.1} are not resolved here, binding reports that case.
     */
    private static void checkListeners(BootstrapConfig config, String source) {
        List<Listener> listeners = new ArrayList<>();
        listeners.add(new Listener("inbound.listen", config.inbound().listen()));
        listeners.add(new Listener("outbound.listen", config.outbound().listen()));
        String outboundHost = config.outbound().listen().host();
        List<UpstreamPortConfig> upstreams = config.outbound().upstreams();
        for (int i = 0; i < upstreams.size(); i++) {
            listeners.add(new Listener("outbound.upstreams[" + i + "].port",
                    new HostPort(outboundHost, upstreams.get(i).port())));
        }
        listeners.add(new Listener("health.listen", config.health()));
        listeners.add(new Listener("admin.listen", config.admin()));
        for (int j = 1; j < listeners.size(); j++) {
            Listener later = listeners.get(j);
            for (int i = 0; i < j; i++) {
                Listener earlier = listeners.get(i);
                if (conflict(earlier.address(), later.address())) {
                    throw new ConfigException(source, later.path(), later.address() + " is already used by "
                            + earlier.path() + " (" + earlier.address() + ")");
                }
            }
        }
    }

    private static boolean conflict(HostPort a, HostPort b) {
        if (a.port() == 0 || a.port() != b.port()) {
            return false;
        }
        return isWildcard(a.host()) || isWildcard(b.host())
                || a.host().toLowerCase(Locale.ROOT).equals(b.host().toLowerCase(Locale.ROOT));
    }

    private static boolean isWildcard(String host) {
        InetAddress literal = literal(host);
        return literal != null && literal.isAnyLocalAddress();
    }

    /** The admin server can drain the sidecar and shows its config: it must not be reachable off the host. */
    private static void checkAdminLoopback(BootstrapConfig config, String source) {
        String host = config.admin().host();
        InetAddress literal = literal(host);
        boolean loopback = literal != null ? literal.isLoopbackAddress() : host.equalsIgnoreCase("localhost");
        if (!loopback) {
            throw new ConfigException(source, "admin.listen",
                    "must be a loopback address (127.0.0.1, ::1 or localhost), got '" + host + "'");
        }
    }

    /** The address for an IP literal, null for a host name (never a DNS lookup). */
    private static InetAddress literal(String host) {
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
