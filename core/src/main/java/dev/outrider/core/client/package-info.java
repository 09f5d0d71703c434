/**
 * The control plane's HTTP API as Java calls (docs/control-plane.md): {@link dev.outrider.core.client.ControlPlaneClient}
 * and its transport, TLS material, trust decision, errors, retry delays and the API's request and answer values.
 * The bottom of the sidecar's control-plane side: the workload identity ({@code dev.outrider.core.identity}) and
 * the snapshot watch ({@code dev.outrider.core.watch}) use it; it imports neither. Blocking calls, made on the
 * threads of those packages (or a tool's main thread), never on an event loop.
 *
 * <pre>
 *  ControlPlaneClient ── JDK HttpClient, TLS 1.3: server = PKIX(trust bundle) + host name + control-plane SPIFFE ID
 *       │                client = certificate files (re-read when they change, ClientTls) and/or bearer token
 *       ├─ HttpTransport        the HttpClients, rebuilt when the TLS files' bytes change
 *       ├─ ApiAnswers           answers as JSON or ControlPlaneException
 *       └─ Backoff              exponential delays with full jitter between retries
 * </pre>
 */
package dev.outrider.core.client;
