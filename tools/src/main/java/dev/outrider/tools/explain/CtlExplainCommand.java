package dev.outrider.tools.explain;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.snapshot.SignedSnapshot;
import dev.outrider.tools.ctl.CtlConnection;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code outrider ctl explain}: {@link ExplainCommand} against the live policies, that is the snapshot the
 * control plane serves the workload right now, its signature checked with the control plane's published keys
 * (as the sidecar checks it). Same request options and output as {@code outrider explain}.
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Explain the authorization decision for a request against the live policies: the control "
                + "plane's signed snapshot for the workload.")
public final class CtlExplainCommand extends ExplainCommand {
    @Mixin
    private CtlConnection connection;

    @Option(names = "--service-account", paramLabel = "ACCOUNT",
            description = "The workload's service account (default: the --workload name).")
    private String serviceAccount;

    @Spec
    private CommandSpec spec;

    @Override
    List<PolicyDocument> documents(PrintWriter out) {
        if (spec.commandLine().getParseResult().hasMatchedOption("--policies")) {
            throw new IllegalArgumentException("--policies: ctl explain takes the policies from the control plane;"
                    + " use 'outrider explain --policies' for files");
        }
        String account = serviceAccount == null ? workload() : serviceAccount;
        try (ControlPlaneClient client = connection.open()) {
            SpiffeId identity = SpiffeId.ofServiceAccount(connection.config().serverIdentity().trustDomain(),
                    namespace(), account);
            JWKSet keys = JWKSet.parse(client.snapshotKeys());
            SignedSnapshot signed = client.nextSnapshot(namespace(), account, 0, Duration.ZERO)
                    .get(30, TimeUnit.SECONDS)
                    .orElseThrow(() -> new IllegalStateException("the control plane has no snapshot for " + identity));
            WorkloadSnapshot snapshot = new SnapshotVerifier(keys, identity).verify(signed.jws());
            out.println("snapshot:  version " + snapshot.version() + " for " + identity + " (signature checked),"
                    + " issued " + snapshot.issuedAt());
            return PolicyDocuments.parse(snapshot.policies(), "snapshot " + snapshot.version());
        } catch (ParseException e) {
            throw new IllegalStateException("the control plane's snapshot keys are not a JWK Set: " + e.getMessage(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from the control plane within 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
