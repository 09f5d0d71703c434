package dev.outrider.proxy.it;

/** {@link ServletContainerBehindSidecarCases} with embedded Jetty as the application. */
class JettyBehindSidecarTest extends ServletContainerBehindSidecarCases {
    @Override
    ServletContainer.Kind kind() {
        return ServletContainer.Kind.JETTY;
    }
}
