package dev.outrider.proxy.it;

/** {@link ServletContainerBehindSidecarCases} with embedded Tomcat as the application. */
class TomcatBehindSidecarTest extends ServletContainerBehindSidecarCases {
    @Override
    ServletContainer.Kind kind() {
        return ServletContainer.Kind.TOMCAT;
    }
}
