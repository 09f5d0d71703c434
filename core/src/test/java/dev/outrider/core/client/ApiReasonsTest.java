package dev.outrider.core.client;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ApiReasonsTest {

    @Test
    void everyStatusTheContractNamesHasItsWord() {
        assertThat(ApiReasons.of(400)).isEqualTo("Invalid");
        assertThat(ApiReasons.of(404)).isEqualTo("NotFound");
        assertThat(ApiReasons.of(409)).isEqualTo("Conflict");
        assertThat(ApiReasons.of(431)).isEqualTo("HeadersTooLarge");
        assertThat(ApiReasons.of(503)).isEqualTo("Unavailable");
    }

    @Test
    void aStatusTheContractDoesNotNameHasNone() {
        assertThat(ApiReasons.of(418)).isNull();
        assertThat(ApiReasons.of(502)).isNull();
    }

    @Test
    void theClientFillsInTheContractsWordOrTheStatus() {
        assertThat(ControlPlaneException.reasonOf(413)).isEqualTo("TooLarge");
        assertThat(ControlPlaneException.reasonOf(502)).isEqualTo("HTTP502");
    }
}
