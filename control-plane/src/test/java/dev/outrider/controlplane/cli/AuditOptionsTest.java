package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.ControlPlaneConfig;
import dev.outrider.controlplane.store.AuditRetention;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --audit-log}, {@code --audit-max-records} and {@code --audit-max-age}; errors name the option. */
class AuditOptionsTest {

    @Test
    void theDefaultsAreAFileInTheDataDirectoryTenThousandRecordsAndNinetyDays() {
        ControlPlaneConfig.Audit audit = MainOptions.config().audit();
        assertThat(audit.logFile()).isEqualTo(Path.of("data", "audit.log"));
        assertThat(audit.retention()).isEqualTo(new AuditRetention(10_000, Duration.ofDays(90)));
    }

    @Test
    void aFileOrStandardOutputAndTheRetentionBounds() {
        ControlPlaneConfig.Audit audit = MainOptions.config("--audit-log", "/var/log/outrider/audit.jsonl",
                "--audit-max-records", "500", "--audit-max-age", "7d").audit();
        assertThat(audit.logFile()).isEqualTo(Path.of("/var/log/outrider/audit.jsonl"));
        assertThat(audit.retention()).isEqualTo(new AuditRetention(500, Duration.ofDays(7)));
        assertThat(MainOptions.config("--audit-log", "-").audit().logFile()).as("standard output").isNull();
    }

    @Test
    void badValuesAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> MainOptions.config("--audit-max-records", "0"))
                .hasMessage("--audit-max-records: '0' is not a number from 1 to 100000");
        assertThatThrownBy(() -> MainOptions.config("--audit-max-records", "100001"))
                .hasMessageStartingWith("--audit-max-records: ");
        assertThatThrownBy(() -> MainOptions.config("--audit-max-records", "many"))
                .hasMessageStartingWith("--audit-max-records: 'many'");
        assertThatThrownBy(() -> MainOptions.config("--audit-max-age", "30s"))
                .hasMessage("--audit-max-age: the audit trail keeps records for 1m to 3650d, not 30s");
        assertThatThrownBy(() -> MainOptions.config("--audit-max-age", "forever"))
                .hasMessageStartingWith("--audit-max-age: ");
        assertThatThrownBy(() -> MainOptions.config("--audit-log", " "))
                .hasMessageStartingWith("--audit-log: must not be empty");
    }
}
