package dev.outrider.proxy.policy;

import com.nimbusds.jose.JWSAlgorithm;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.PeerAuthentication;
import dev.outrider.core.policy.PeerAuthentications;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.policy.RequestAuthentication;
import dev.outrider.core.policy.ServiceEntry;
import dev.outrider.proxy.egress.EgressCompiler;
import dev.outrider.proxy.egress.EgressTable;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.authn.JwtVerifier;
import dev.outrider.proxy.authn.RequestAuthenticator;
import dev.outrider.proxy.authn.TokenCache;
import dev.outrider.proxy.authn.TokenVerifier;
import dev.outrider.proxy.authz.CompiledPolicies;
import dev.outrider.proxy.config.JwtConfig;
import dev.outrider.proxy.config.NodeConfig;
import dev.outrider.proxy.config.PolicyConfig;
import dev.outrider.proxy.ratelimit.RateLimiter;

import com.github.benmanes.caffeine.cache.Ticker;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Turns a set of policy documents into this workload's {@link PolicySnapshot}: picks the documents that
 * apply (the workload's namespace or the root namespace, and a selector that selects its labels), compiles
 * RequestAuthentication into a {@link RequestAuthenticator} (with a fresh verified-token cache: a token
 * verified under an old snapshot is never served under a new one) and AuthorizationPolicy into
 * {@link CompiledPolicies}, ServiceEntries (with the AuthorizationPolicies whose targetRefs name them) into the
 * {@link EgressTable}, PeerAuthentication into the mTLS mode of the inbound application port
 * ({@link PeerAuthentications}), and registers the per-policy meters. Any error names the policy and field;
 * nothing is published then. Runs off the event loops (start-up, the directory watcher, the control-plane
 * client later).
 */
public final class WorkloadPolicyCompiler {
    private static final Logger log = LoggerFactory.getLogger(WorkloadPolicyCompiler.class);
    private final NodeConfig node;
    private final PolicyConfig config;
    private final JwtVerifier.Options jwtOptions;
    private final JwtConfig jwt;
    private final JwksCache jwks;
    private final PolicyMetrics metrics;
    private final RateLimiter rateLimiter;
    private final EgressCompiler egress;
    private final int applicationPort;
    /** What was last logged about the mTLS mode (a reload with the same decision logs nothing). */
    private volatile PeerAuthentications.Effective loggedMtls = PeerAuthentications.Effective.STRICT;

    /** Without egress (every external host refused) and without an application port for portLevelMtls. */
    public WorkloadPolicyCompiler(NodeConfig node, PolicyConfig config, JwtConfig jwt, JwksCache jwks,
                                  PolicyMetrics metrics, RateLimiter rateLimiter) {
        this(node, config, jwt, jwks, metrics, rateLimiter, null, 0);
    }

    /**
     * @param jwks        fetches issuers' keys; shared by every snapshot so keys survive a policy reload
     * @param rateLimiter compiles RateLimitPolicies; holds the budgets that survive a reload
     * @param egress      compiles ServiceEntries into the egress table; null: none (every external host refused)
     * @param applicationPort the inbound application port, whose PeerAuthentication {@code portLevelMtls} mode
     *                        applies (0: only the documents' {@code mtls.mode})
     */
    public WorkloadPolicyCompiler(NodeConfig node, PolicyConfig config, JwtConfig jwt, JwksCache jwks,
                                  PolicyMetrics metrics, RateLimiter rateLimiter, EgressCompiler egress,
                                  int applicationPort) {
        this.egress = egress;
        this.applicationPort = applicationPort;
        this.node = requireNonNull(node, "node");
        this.config = requireNonNull(config, "config");
        this.jwt = requireNonNull(jwt, "jwt");
        this.jwks = requireNonNull(jwks, "jwks");
        this.metrics = requireNonNull(metrics, "metrics");
        this.rateLimiter = requireNonNull(rateLimiter, "rateLimiter");
        Set<JWSAlgorithm> algorithms = new LinkedHashSet<>();
        for (String a : jwt.algorithms()) {
            algorithms.add(JWSAlgorithm.parse(a));
        }
        this.jwtOptions = new JwtVerifier.Options(algorithms, jwt.clockSkew(), jwt.maxLength());
    }

    /** The limiter whose budgets compiled rate limits keep (and which holds the Redis of global rules). */
    public RateLimiter rateLimiter() {
        return rateLimiter;
    }

    /**
     * @throws IllegalArgumentException naming the policy and field when a document cannot be compiled
     */
    public PolicySnapshot compile(String version, String source, List<PolicyDocument> documents) {
        requireNonNull(documents, "documents");
        List<AuthorizationPolicy> authz = new ArrayList<>();
        List<RequestAuthentication> authn = new ArrayList<>();
        List<RateLimitPolicy> rateLimits = new ArrayList<>();
        List<PeerAuthentication> peerAuthentications = new ArrayList<>();
        List<String> applying = new ArrayList<>();
        for (PolicyDocument d : documents) {
            if (!applies(d)) {
                continue;
            }
            if (d instanceof AuthorizationPolicy a && !a.targetsServiceEntries()) {
                authz.add(a);
                applying.add(a.metadata().id());
            } else if (d instanceof RequestAuthentication r) {
                authn.add(r);
            } else if (d instanceof RateLimitPolicy r) {
                rateLimits.add(r);
            } else if (d instanceof PeerAuthentication p) {
                peerAuthentications.add(p);
            }
        }
        CompiledPolicies authorization = CompiledPolicies.compile(authz, node.labels(), node.namespace(),
                config.rootNamespace(), config.defaultAction());
        RequestAuthenticator authentication = RequestAuthenticator.NONE;
        if (authn.stream().anyMatch(r -> !r.jwtRules().isEmpty())) {
            TokenVerifier verifier = JwtVerifier.compile(authn, jwks, jwtOptions);
            if (jwt.cacheSize() > 0) {
                verifier = new TokenCache(verifier, jwt.cacheSize(), TokenCache.DEFAULT_MAX_TTL, Ticker.systemTicker());
            }
            authentication = RequestAuthenticator.compile(authn, verifier);
        }
        EgressTable egressTable = egress == null ? EgressTable.EMPTY : egress.compile(documents);
        PeerAuthentications.Effective mtls = PeerAuthentications.effective(peerAuthentications, node.namespace(),
                config.rootNamespace(), applicationPort);
        logMtls(mtls);
        return new PolicySnapshot(version, source, Instant.now(), documents.size(), applying, authentication,
                authorization, metrics.decisionMeters(applying), rateLimiter.compile(rateLimits), mtls, null,
                egressTable);
    }

    private void logMtls(PeerAuthentications.Effective mtls) {
        if (mtls.equals(loggedMtls)) {
            return;
        }
        loggedMtls = mtls;
        log.info("inbound port {}: mTLS mode {} ({})", applicationPort, mtls.mode(), mtls.decidedBy());
        if (!mtls.ignored().isEmpty()) {
            log.warn("PeerAuthentication {} ignored: another one at the same level (workload, namespace or mesh)"
                    + " comes first by namespace/name", mtls.ignored());
        }
    }

    /**
     * The namespaces of {@code documents} that are neither this workload's nor the root namespace: a control
     * plane whose MeshConfig names another root namespace than {@code policies.rootNamespace} sends those, and
     * they would silently never apply.
     */
    public java.util.Set<String> foreignNamespaces(List<PolicyDocument> documents) {
        java.util.Set<String> foreign = new java.util.TreeSet<>();
        for (PolicyDocument d : documents) {
            if (d instanceof ServiceEntry || (d instanceof AuthorizationPolicy a && a.targetsServiceEntries())) {
                continue; // ServiceEntries exported here, and the policies targeting them, come from any namespace
            }
            String ns = d.metadata().namespace();
            if (!ns.equals(node.namespace()) && !ns.equals(config.rootNamespace())) {
                foreign.add(ns);
            }
        }
        return foreign;
    }

    private boolean applies(PolicyDocument d) {
        String ns = d.metadata().namespace();
        return (ns.equals(node.namespace()) || ns.equals(config.rootNamespace()))
                && d.selector().selects(node.labels());
    }
}
