package dev.outrider.proxy.config;

/**
 * What happens to a request when no ALLOW policy applies to the workload (and no DENY policy matched).
 * Outrider's default is {@link #DENY} ("zero trust"); {@link #ALLOW} is Istio's behaviour and an opt-in.
 */
public enum DefaultAction {
    DENY, ALLOW
}
