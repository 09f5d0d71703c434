package dev.outrider.proxy.authn;

import java.security.Provider;

/** Which JCA provider runs ECDSA verification (see bench/RESULTS.md, "JWT verification"). */
final class SignatureProviders {
    private SignatureProviders() {
    }

    /** The preferred provider for ECDSA if it loads and passes a self-test, else null (the JDK's). */
    static Provider ecdsa() {
        return null;
    }
}
