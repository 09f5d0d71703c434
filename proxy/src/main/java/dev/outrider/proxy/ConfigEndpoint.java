package dev.outrider.proxy;

import dev.outrider.core.document.Durations;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.ConfigView;
import dev.outrider.proxy.control.ControlPlaneLink;
import dev.outrider.proxy.policy.PolicySnapshot;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.ratelimit.RateLimiter;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What the admin server's {@code /config} shows: the bootstrap config, redacted ({@link ConfigView}), which
 * policy snapshot is in force, and, with a control plane, the state of the link to it. Built per request on an
 * event loop from immutable snapshots and cheap reads; nothing here blocks.
 */
final class ConfigEndpoint implements Supplier<Map<String, Object>> {
    private final BootstrapConfig config;
    private final PolicyStore policies;
    private final RateLimiter rateLimiter;
    /** Null without a control plane. */
    private final ControlPlaneLink controlPlane;

    ConfigEndpoint(BootstrapConfig config, PolicyStore policies, RateLimiter rateLimiter,
                   ControlPlaneLink controlPlane) {
        this.config = config;
        this.policies = policies;
        this.rateLimiter = rateLimiter;
        this.controlPlane = controlPlane;
    }

    @Override
    public Map<String, Object> get() {
        Map<String, Object> view = new LinkedHashMap<>(ConfigView.redacted(config));
        view.put("policySnapshot", snapshot(policies.current()));
        if (controlPlane != null) {
            view.put("controlPlaneLink", link());
        }
        return view;
    }

    private Map<String, Object> snapshot(PolicySnapshot p) {
        Map<String, Object> snapshot = new LinkedHashMap<>();
        snapshot.put("version", p.version());
        snapshot.put("source", p.source());
        snapshot.put("appliedAt", p.appliedAt().toString());
        snapshot.put("documents", p.documents());
        snapshot.put("authorizationPolicies", p.policies());
        snapshot.put("authorizationRules", p.authorization().ruleCount());
        snapshot.put("jwtAuthentication", !p.authentication().isEmpty());
        snapshot.put("rateLimitPolicies", p.rateLimits().policies());
        snapshot.put("inboundMtlsMode", p.mtls().mode().name());
        snapshot.put("inboundMtlsModeFrom", p.mtls().decidedBy());
        snapshot.put("rateLimitRules", p.rateLimits().ruleCount());
        snapshot.put("rateLimitTrackedKeys", rateLimiter.trackedKeys());
        snapshot.put("serviceEntries", p.egress().entries());
        RateLimiter.RedisInUse redis = rateLimiter.redisInUse();
        Map<String, Object> r = null;
        if (redis != null) {
            r = new LinkedHashMap<>();
            r.put("uri", redis.uri());
            r.put("source", redis.source());
            r.put("timeout", Durations.format(redis.timeout()));
            r.put("available", redis.available());
        }
        snapshot.put("rateLimitRedis", r);
        return snapshot;
    }

    private Map<String, Object> link() {
        var watch = controlPlane.state();
        Map<String, Object> link = new LinkedHashMap<>();
        link.put("appliedVersion", watch == null || watch.appliedVersion() < 0 ? null : watch.appliedVersion());
        link.put("source", watch == null ? null : watch.source().toString());
        link.put("lastError", watch == null ? null : watch.lastError());
        link.put("lastContact", watch == null || watch.lastContact() == null ? null : watch.lastContact().toString());
        link.put("certificateNotAfter", controlPlane.certificateNotAfter().toString());
        return link;
    }
}
