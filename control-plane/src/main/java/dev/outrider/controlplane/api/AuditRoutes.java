package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.audit.AuditTrail;
import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.ApiRequest;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Json;
import dev.outrider.controlplane.server.Router;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.DnsLabel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * {@code GET /v1/audit?since=&namespace=&limit=} (admin; docs/control-plane.md "Audit trail"), on the worker
 * executor (a store read): {@code {"items": [record, ...], "omitted": N}}, oldest first, the newest {@code limit}
 * of the records that match; {@code omitted} counts the older ones left out. Every parameter is checked: a bad or
 * unknown one is 400 naming it.
 * <ul>
 *   <li>{@code since}: an RFC 3339 time ({@code 2026-12-07T10:00:00Z}, an offset allowed) or a duration back from
 *       now ({@code 1h}, {@code 30m}; the duration grammar of {@link Durations}); default: every record kept</li>
 *   <li>{@code namespace}: only records about resources of that namespace (an RFC 1123 label)</li>
 *   <li>{@code limit}: 1 to {@value #MAX_LIMIT}, default {@value #DEFAULT_LIMIT}</li>
 * </ul>
 */
public final class AuditRoutes {
    static final int DEFAULT_LIMIT = 500;
    static final int MAX_LIMIT = 100_000;
    private static final Set<String> PARAMETERS = Set.of("since", "namespace", "limit");

    private final AuditTrail trail;
    private final Clock clock;

    public AuditRoutes(AuditTrail trail, Clock clock) {
        this.trail = requireNonNull(trail, "trail");
        this.clock = requireNonNull(clock, "clock");
    }

    public void register(Router.Builder routes) {
        routes.blocking(HttpMethod.GET, "/v1/audit", Access.ADMIN, this::list);
    }

    ApiResponse list(ApiRequest request) {
        onlyParameters(request, PARAMETERS, "since, namespace or limit");
        Instant since = since(request.queryParam("since"), clock.instant());
        String namespace = request.queryParam("namespace");
        if (namespace != null && !DnsLabel.isValid(namespace)) {
            throw ApiException.invalid("namespace", "namespace '" + printable(namespace)
                    + "' is not an RFC 1123 label");
        }
        int limit = limit(request.queryParam("limit"));
        AuditTrail.Page page = StoreErrors.call(() -> trail.list(since, namespace, limit));
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.putArray("items").addAll(page.items());
        body.put("omitted", page.omitted());
        return ApiResponse.json(HttpResponseStatus.OK, body);
    }

    /** Refuses (400, naming it) a query parameter not in {@code known}, or one given twice. */
    static void onlyParameters(ApiRequest request, Set<String> known, String expected) {
        for (Map.Entry<String, List<String>> p : request.query().entrySet()) {
            if (!known.contains(p.getKey())) {
                throw ApiException.invalid(p.getKey(), "unknown query parameter '" + printable(p.getKey())
                        + "'; expected " + expected);
            }
            if (p.getValue().size() > 1) {
                throw ApiException.invalid(p.getKey(), "query parameter '" + p.getKey() + "' is given more than once");
            }
        }
    }

    /** {@code since}: an RFC 3339 time, or a duration back from {@code now}; null when absent. */
    static Instant since(String text, Instant now) {
        return since("since", text, now);
    }

    /**
     * Query parameter {@code field} ({@code since}, {@code plaintextSince}): an RFC 3339 time, or a duration back
     * from {@code now}; null when absent.
     */
    static Instant since(String field, String text, Instant now) {
        if (text == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException notATime) {
            Duration back;
            try {
                back = Durations.parse(text);
            } catch (IllegalArgumentException notADuration) {
                throw ApiException.invalid(field, field + " '" + printable(text) + "' is neither an RFC 3339 time"
                        + " (2026-12-07T10:00:00Z) nor a duration (1h, 30m, 7d)");
            }
            return now.minus(back);
        }
    }

    private static int limit(String text) {
        if (text == null) {
            return DEFAULT_LIMIT;
        }
        int limit;
        try {
            limit = text.matches("[0-9]{1,7}") ? Integer.parseInt(text) : -1;
        } catch (NumberFormatException e) {
            limit = -1;
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw ApiException.invalid("limit", "limit '" + printable(text) + "' is not a number from 1 to "
                    + MAX_LIMIT);
        }
        return limit;
    }

    private static String printable(String text) {
        String cut = text.length() > 60 ? text.substring(0, 60) + "..." : text;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
