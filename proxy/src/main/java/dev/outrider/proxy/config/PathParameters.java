package dev.outrider.proxy.config;

/**
 * What a path parameter ({@code ;} and what follows it in a segment, RFC 3986 §3.3) does
 * (bootstrap {@code policies.pathParameters}); {@code http.RequestPathPolicy} applies it.
 */
public enum PathParameters {
    /**
     * 400 (the default; Spring Security's {@code StrictHttpFirewall} does the same). Safe whatever the
     * application does with them.
     */
    REJECT,
    /**
     * Cut {@code ;} and everything after it off every segment, before decoding, merging slashes and removing
     * dot segments, and forward the result: {@code /admin;jsessionid=1} is {@code /admin},
     * {@code /public/..;v=1/admin} is {@code /admin}, as Tomcat, Jetty and Spring resolve them. The
     * application never sees the parameters (a {@code ;jsessionid} session id is lost).
     */
    STRIP
}
