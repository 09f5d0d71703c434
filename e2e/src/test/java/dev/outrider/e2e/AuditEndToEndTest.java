package dev.outrider.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code outrider ctl audit} against {@code outrider control-plane} as processes: changes made with ctl, and one
 * refused, are listed as a table and as JSON, filtered by namespace and time; the store keeps at most
 * {@code --audit-max-records} of them while {@code --audit-log} keeps every one; neither holds a token.
 */
class AuditEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final Started started = new Started();

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
    }

    @Test
    void ctlAuditListsTheChangesMadeAndRefusedWithTheirCallers() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        Path auditLog = dir.resolve("audit.jsonl");
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca,
                List.of("--audit-log", auditLog.toString(), "--audit-max-records", "5")));
        Files.writeString(dir.resolve("shop.yaml"), """
                apiVersion: outrider.dev/v1
                kind: Service
                metadata: {name: orders, namespace: shop}
                spec: {}
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                spec:
                  action: ALLOW
                  rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]}]
                ---
                apiVersion: outrider.dev/v1
                kind: Service
                metadata: {name: ledger, namespace: books}
                spec: {}
                """);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve("shop.yaml").toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();
        Ctl token = Ctl.run(dir, cp, "join-token", "create", "-n", "shop", "--service-account", "orders");
        assertThat(token.exitCode()).as(token.output()).isZero();
        String joinToken = token.output().lines().filter(l -> l.matches("[A-Za-z0-9_-]{43}")).findFirst()
                .orElseThrow();
        Path wrongToken = Files.writeString(dir.resolve("wrong-token"), "wrong-token-0123456789abcdef0123456789");
        Ctl refused = Ctl.run(dir, List.of("delete", "service", "orders", "-n", "shop", "--server", cp.url(), "--ca",
                ca.certificate().toString(), "--token-file", wrongToken.toString()));
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);

        Ctl table = Ctl.run(dir, cp, "audit", "-n", "shop", "--since", "1h");
        assertThat(table.exitCode()).as(table.output()).isZero();
        List<String> lines = table.output().lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines.getFirst()).matches("TIME +STATUS +ACTION +RESOURCE +VERSIONS +CALLER +SOURCE +ERROR");
        assertThat(lines).anyMatch(l -> l.matches(".* 201 +create +Service/shop/orders +->[0-9]+"
                + " +admin \\(admin token\\) +127\\.0\\.0\\.1:[0-9]+ +-"));
        assertThat(lines).anyMatch(l -> l.contains("create") && l.contains("AuthorizationPolicy/shop/allow-frontend"));
        assertThat(lines).anyMatch(l -> l.contains("create") && l.contains("JoinToken/shop/orders"));
        assertThat(lines).anyMatch(l -> l.matches(".* 401 +delete +Service/shop/orders +.*bearer \\(join token\\).*"));
        assertThat(lines).noneMatch(l -> l.contains("books"));

        Ctl again = Ctl.run(dir, cp, "apply", "-f", dir.resolve("shop.yaml").toString());
        assertThat(again.exitCode()).as(again.output()).isZero();
        Ctl json = Ctl.run(dir, cp, "audit", "-o", "json");
        assertThat(json.exitCode()).as(json.output()).isZero();
        JsonNode answer = JSON.readTree(json.output().substring(json.output().indexOf('{')));
        JsonNode items = answer.get("items");
        assertThat(items).as("the store keeps --audit-max-records").hasSize(5);
        assertThat(items.get(0).at("/kind").asText()).as("the oldest kept: the join token").isEqualTo("JoinToken");
        assertThat(items.get(1).at("/status").asInt()).isEqualTo(401);
        assertThat(items.get(4).at("/action").asText()).as("newest last").isEqualTo("replace");
        assertThat(items.get(4).at("/resourceVersionBefore").asText()).isNotEmpty();
        assertThat(answer.get("omitted").asInt()).isZero();

        Ctl badSince = Ctl.run(dir, cp, "audit", "--since", "yesterday");
        assertThat(badSince.exitCode()).isEqualTo(1);
        assertThat(badSince.output()).contains("since 'yesterday' is neither an RFC 3339 time");

        List<String> logged = Files.readAllLines(auditLog);
        assertThat(logged).as("the stream keeps every record: 3 created, 1 token, 1 refused, 3 replaced").hasSize(8);
        String everything = Files.readString(auditLog) + json.output() + table.output();
        assertThat(everything).doesNotContain(joinToken).doesNotContain(ControlPlaneProcess.ADMIN_TOKEN)
                .doesNotContain(Files.readString(wrongToken));
    }
}
