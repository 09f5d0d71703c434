package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every golden input injected gives exactly its expected file; injecting the output again gives it back byte for
 * byte; the expected files are what the YAML reader reads back as the injected trees.
 */
class ManifestInjectorGoldenTest {
    static final List<GoldenCases.Case> CASES = GoldenCases.ALL;

    @ParameterizedTest(name = "{0}")
    @FieldSource("CASES")
    void outputIsTheGoldenFile(GoldenCases.Case c) {
        String out = ManifestInjector.inject(c.input(), c.name() + ".input.yaml", c.options()).yaml();
        if (GoldenCases.writing()) {
            GoldenCases.write(c, out);
        }
        assertThat(out).isEqualTo(c.expected());
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("CASES")
    void injectingTwiceChangesNothing(GoldenCases.Case c) {
        String once = ManifestInjector.inject(c.input(), "once", c.options()).yaml();
        ManifestInjector.Result twice = ManifestInjector.inject(once, "twice", c.options());
        assertThat(twice.yaml()).isEqualTo(once);
        assertThat(twice.injected()).isZero();
        // and with the other mode's options: an injected pod is left as it is whatever the flags
        InjectOptions other = c.options().legacySidecar() ? GoldenCases.DEFAULTS : GoldenCases.LEGACY;
        assertThat(ManifestInjector.inject(once, "again", other).yaml()).isEqualTo(once);
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("CASES")
    void theExpectedFileIsAFixedPoint(GoldenCases.Case c) {
        assertThat(ManifestInjector.inject(c.expected(), "expected", c.options()).yaml()).isEqualTo(c.expected());
    }

    @ParameterizedTest(name = "{0}")
    @FieldSource("CASES")
    void untouchedDocumentsReadBackAsTheyWereRead(GoldenCases.Case c) {
        List<ManifestText.Document> in = ManifestText.read(c.input(), "in");
        List<ManifestText.Document> out = ManifestText.read(c.expected(), "out");
        assertThat(out).hasSameSizeAs(in);
        for (int i = 0; i < in.size(); i++) {
            JsonNode before = in.get(i).node();
            JsonNode after = out.get(i).node();
            if (before.equals(after)) {
                continue;
            }
            // an injected document: removing what inject adds gives the input back
            assertThat(Injected.strip(after, before)).as("document %d without the sidecar", i + 1).isEqualTo(before);
        }
    }
}
