package dev.outrider.proxy.upstream;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power-of-two-choices least-request: pick two distinct endpoints at random and take the one with fewer
 * requests in flight (Mitzenmacher; Envoy's LEAST_REQUEST with choice_count 2). Endpoints already tried by
 * this request are skipped, so a refused connect moves on to another endpoint.
 */
public final class LoadBalancer {
    private LoadBalancer() {
    }

    /**
     * @param tried bit i set = endpoint i was already tried (clusters beyond 64 endpoints reuse bits
     *              modulo 64, which only makes a retry slightly more likely to repeat an endpoint)
     * @return the index of the chosen endpoint, or -1 when every endpoint was tried
     */
    public static int pick(List<Endpoint> endpoints, long tried) {
        int n = endpoints.size();
        int untried = 0;
        for (int i = 0; i < n; i++) {
            if (!isTried(tried, i)) {
                untried++;
            }
        }
        if (untried == 0) {
            return -1;
        }
        if (untried == 1) {
            for (int i = 0; i < n; i++) {
                if (!isTried(tried, i)) {
                    return i;
                }
            }
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int k1 = random.nextInt(untried);
        int k2 = random.nextInt(untried - 1);
        if (k2 >= k1) {
            k2++; // two distinct choices
        }
        int a = nthUntried(tried, n, k1);
        int b = nthUntried(tried, n, k2);
        return endpoints.get(b).active() < endpoints.get(a).active() ? b : a;
    }

    private static boolean isTried(long tried, int i) {
        return (tried & (1L << (i & 63))) != 0;
    }

    private static int nthUntried(long tried, int n, int k) {
        for (int i = 0; i < n; i++) {
            if (!isTried(tried, i) && k-- == 0) {
                return i;
            }
        }
        throw new IllegalStateException("fewer untried endpoints than counted");
    }

    public static long markTried(long tried, int i) {
        return tried | (1L << (i & 63));
    }
}
