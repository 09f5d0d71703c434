package dev.outrider.proxy.egress;

import dev.outrider.core.pem.Pem;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.ServiceEntry;
import dev.outrider.proxy.authz.CompiledPolicies;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.Endpoint;
import dev.outrider.proxy.upstream.OriginatedTls;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Compiles the ServiceEntries of a snapshot (or policy directory) into this workload's {@link EgressTable}: per entry
 * host and port an external cluster (DNS: the host itself, resolved at connect time off the event loops; STATIC: the
 * entry's addresses) with, where the entry says so, TLS the sidecar originates (one client context per entry: its CA
 * bundle read with the project's PEM reader, or the JDK's default trust store; TLS 1.3 and 1.2; hostname verification
 * on the SNI name), and the AuthorizationPolicies whose targetRefs name the entry compiled by the authorization engine.
 * Which entries a workload sees is the control plane's to decide (exportTo, Sidecar egress hosts); a policy directory
 * gives every workload its entries exported to the workload's namespace.
 *
 * <p>Runs off the event loops (snapshot application, the directory watcher). Stateless apart from its settings.
 */
public final class EgressCompiler {
    private static final Logger log = LoggerFactory.getLogger(EgressCompiler.class);
    /** External servers may not speak TLS 1.3 yet; nothing older than 1.2. */
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SslProvider provider;
    private final EgressMetrics metrics;
    private final String namespace;

    /**
     * @param provider  the sidecar's TLS provider
     * @param namespace the workload's namespace (for exportTo)
     */
    public EgressCompiler(SslProvider provider, EgressMetrics metrics, String namespace) {
        this.provider = requireNonNull(provider, "provider");
        this.metrics = requireNonNull(metrics, "metrics");
        this.namespace = requireNonNull(namespace, "namespace");
    }

    public EgressMetrics metrics() {
        return metrics;
    }

    /**
     * @throws IllegalArgumentException naming the entry and field when its CA bundle cannot be used
     */
    public EgressTable compile(List<PolicyDocument> documents) {
        requireNonNull(documents, "documents");
        List<AuthorizationPolicy> targeting = new ArrayList<>();
        for (PolicyDocument d : documents) {
            if (d instanceof AuthorizationPolicy p && p.targetsServiceEntries()) {
                targeting.add(p);
            }
        }
        EgressTable.Builder table = new EgressTable.Builder();
        for (PolicyDocument d : documents) {
            if (d instanceof ServiceEntry entry && entry.exportedTo(namespace)) {
                add(table, entry, targeting);
            }
        }
        return table.build();
    }

    private void add(EgressTable.Builder table, ServiceEntry entry, List<AuthorizationPolicy> targeting) {
        String id = entry.metadata().id();
        List<AuthorizationPolicy> callers = new ArrayList<>();
        for (AuthorizationPolicy p : targeting) {
            if (p.targets(entry.metadata().namespace(), entry.metadata().name())) {
                callers.add(p);
            }
        }
        CompiledPolicies compiledCallers;
        try {
            compiledCallers = CompiledPolicies.compileTargeting(callers);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ServiceEntry " + id + ": " + e.getMessage(), e);
        }
        SslContext context = needsTls(entry) ? context(entry) : null;
        table.entry(id);
        for (String host : entry.hosts()) {
            for (ServiceEntry.Port port : entry.ports()) {
                OriginatedTls tls = entry.originatesTls(port) ? new OriginatedTls(context,
                        entry.tls() != null && entry.tls().sni() != null ? entry.tls().sni() : host,
                        "ServiceEntry " + id + " host " + host, metrics::tlsFailed) : null;
                Cluster cluster = Cluster.external("egress|" + host + ":" + port.number(),
                        endpoints(entry, host, port), tls);
                String taken = table.add(host, port.number(), new EgressRoute(id, new Route(cluster), compiledCallers));
                if (taken != null) {
                    log.warn("ServiceEntry {}: {}:{} is already declared by ServiceEntry {}, which keeps it", id, host,
                            port.number(), taken);
                }
            }
        }
    }

    private static boolean needsTls(ServiceEntry entry) {
        for (ServiceEntry.Port p : entry.ports()) {
            if (entry.originatesTls(p)) {
                return true;
            }
        }
        return false;
    }

    /** DNS: the host, unresolved (resolved when connecting, off the loops); STATIC: each address. */
    private static List<Endpoint> endpoints(ServiceEntry entry, String host, ServiceEntry.Port port) {
        if (entry.resolution() == ServiceEntry.Resolution.DNS) {
            return List.of(new Endpoint(InetSocketAddress.createUnresolved(host, port.targetPort())));
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (ServiceEntry.Endpoint e : entry.endpoints()) {
            // A literal (the reader accepts addresses only): no lookup.
            endpoints.add(new Endpoint(new InetSocketAddress(InetAddress.ofLiteral(e.address()),
                    e.ports().getOrDefault(port.name(), port.targetPort()))));
        }
        return endpoints;
    }

    private SslContext context(ServiceEntry entry) {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(provider)
                .protocols(PROTOCOLS)
                .endpointIdentificationAlgorithm("HTTPS");
        String ca = entry.tls() == null ? null : entry.tls().caCertificates();
        if (ca != null) {
            try {
                builder.trustManager(Pem.certificates(ca).toArray(X509Certificate[]::new));
            } catch (CertificateException e) {
                throw new IllegalArgumentException("ServiceEntry " + entry.metadata().id()
                        + ": spec.tls.caCertificates: " + e.getMessage(), e);
            }
        } // else the JDK's default trust store
        try {
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("ServiceEntry " + entry.metadata().id() + ": spec.tls: cannot build"
                    + " the TLS client: " + e.getMessage(), e);
        }
    }
}
