package dev.outrider.controlplane.testing;

import dev.outrider.controlplane.model.ResourceDocuments;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.controlplane.model.ValidatedResource;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;

import java.nio.charset.StandardCharsets;

/** Writes resources through the API's own validation, as the server does. */
public final class Resources {
    private Resources() {
    }

    /** Validates {@code yaml} as a PUT of {@code kind/namespace/name} would and stores it unconditionally. */
    public static StoredResource put(Store store, ResourceKind kind, String namespace, String name, String yaml) {
        ValidatedResource r = ResourceDocuments.parse(kind, namespace, name, yaml.getBytes(StandardCharsets.UTF_8),
                "application/yaml");
        return store.put(r.key(), r.json(), r.expectedVersion());
    }

    /** A Service with the given spec ({@code {}} for the defaults). */
    public static StoredResource service(Store store, String namespace, String name, String spec) {
        return put(store, ResourceKind.SERVICE, namespace, name,
                "apiVersion: outrider.dev/v1\nkind: Service\nspec: " + spec + "\n");
    }

    /** A Sidecar with the given spec ({@code {egress: [{hosts: ["./*"]}]}}). */
    public static StoredResource sidecar(Store store, String namespace, String name, String spec) {
        return put(store, ResourceKind.SIDECAR, namespace, name,
                "apiVersion: outrider.dev/v1\nkind: Sidecar\nspec: " + spec + "\n");
    }

    /** An AuthorizationPolicy with the given spec. */
    public static StoredResource authorizationPolicy(Store store, String namespace, String name, String spec) {
        return put(store, ResourceKind.AUTHORIZATION_POLICY, namespace, name,
                "apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nspec: " + spec + "\n");
    }

    /** A ServiceEntry (Istio's apiVersion) with the given spec. */
    public static StoredResource serviceEntry(Store store, String namespace, String name, String spec) {
        return put(store, ResourceKind.SERVICE_ENTRY, namespace, name,
                "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nspec: " + spec + "\n");
    }

    /** The MeshConfig with the given spec. */
    public static StoredResource meshConfig(Store store, String spec) {
        return put(store, ResourceKind.MESH_CONFIG, null, null,
                "apiVersion: outrider.dev/v1\nkind: MeshConfig\nspec: " + spec + "\n");
    }
}
