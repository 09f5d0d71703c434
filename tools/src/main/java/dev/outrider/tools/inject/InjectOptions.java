package dev.outrider.tools.inject;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.config.HostPort;

import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * What {@code outrider inject} puts into a pod, from its flags, validated once: every problem is an
 * {@link IllegalArgumentException} naming the flag.
 *
 * @param image         the sidecar image ({@code --image})
 * @param controlPlane  {@code host:port} of the control plane ({@code --control-plane})
 * @param trustDomain   the mesh's SPIFFE trust domain ({@code --trust-domain})
 * @param service       {@code --service}, or null to take it from each workload's labels or name
 * @param appPort       {@code --app-port}, or null to take it from each workload's first container
 * @param legacySidecar {@code --legacy-sidecar}: a regular container instead of a native sidecar
 * @param resources     the container's requests and limits
 */
public record InjectOptions(String image, String controlPlane, String trustDomain, String service, Integer appPort,
                            boolean legacySidecar, SidecarResources resources) {
    /** The version written in {@code outrider.dev/injected} and the default image's tag. */
    public static final String VERSION = "0.1.0";
    public static final String DEFAULT_IMAGE = "outrider/sidecar:" + VERSION;
    public static final String DEFAULT_CONTROL_PLANE = "outrider-control-plane.outrider-system.svc:15010";
    public static final String DEFAULT_TRUST_DOMAIN = "cluster.local";
    /** An image reference: no whitespace, no control characters (the registry's grammar is the runtime's to check). */
    private static final Pattern IMAGE = Pattern.compile("[\\x21-\\x7e]+");
    /** A DNS-1123 label, as Kubernetes service names are. */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    public InjectOptions {
        requireNonNull(image, "image");
        requireNonNull(controlPlane, "controlPlane");
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(resources, "resources");
        if (!IMAGE.matcher(image).matches()) {
            throw new IllegalArgumentException("--image: '" + image + "' is not an image reference");
        }
        HostPort cp;
        try {
            cp = HostPort.parse(controlPlane);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--control-plane: " + e.getMessage(), e);
        }
        if (cp.port() == 0 || !cp.toString().equals(controlPlane)) {
            throw new IllegalArgumentException("--control-plane: expected host:port with a port from 1 to 65535, got '"
                    + controlPlane + "'");
        }
        try {
            SpiffeId.ofServiceAccount(trustDomain, "ns", "sa");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--trust-domain: " + e.getMessage().replace("not a SPIFFE ID: ", ""), e);
        }
        if (service != null && !DNS_LABEL.matcher(service).matches()) {
            throw new IllegalArgumentException("--service: '" + service
                    + "' is not a DNS label (lower-case letters, digits and '-', at most 63)");
        }
        if (appPort != null && (appPort < 1 || appPort > 65535)) {
            throw new IllegalArgumentException("--app-port: " + appPort + " is not a port (1 to 65535)");
        }
        if (appPort != null && SidecarContainer.PORTS_IN_USE.contains(appPort)) {
            throw new IllegalArgumentException("--app-port: " + appPort + " is one of the sidecar's own ports "
                    + SidecarContainer.PORTS_IN_USE);
        }
    }

    /** The defaults of every flag: the contract's image, control plane, trust domain and resources. */
    public static InjectOptions defaults() {
        return new InjectOptions(DEFAULT_IMAGE, DEFAULT_CONTROL_PLANE, DEFAULT_TRUST_DOMAIN, null, null, false,
                SidecarResources.DEFAULT);
    }
}
