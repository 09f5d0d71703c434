package dev.outrider.proxy.config;

/**
 * What an encoded slash ({@code %2F}, {@code %2f}) or backslash ({@code %5C}, {@code %5c}) in the path does
 * (bootstrap {@code policies.escapedSlashes}); {@code http.RequestPathPolicy} applies it.
 */
public enum EscapedSlashes {
    /**
     * 400 (the default; Envoy {@code REJECT_REQUEST}). Safe whatever the application does with them.
     */
    REJECT,
    /**
     * Decode both to {@code /}, then merge slashes and remove dot segments, so {@code /a%2F..%2Fadmin}
     * is {@code /admin} (Envoy {@code UNESCAPE_AND_FORWARD} followed by {@code normalize_path}, which turns
     * {@code \} into {@code /}). The application gets the decoded path.
     */
    DECODE,
    /**
     * Keep them encoded (hex upper-cased) as part of a segment: {@code /a%2F..%2Fadmin} is one segment and
     * is matched and forwarded as {@code /a%2F..%2Fadmin} (Envoy {@code KEEP_UNCHANGED}). Only safe when the
     * application does not decode them before routing.
     */
    KEEP
}
