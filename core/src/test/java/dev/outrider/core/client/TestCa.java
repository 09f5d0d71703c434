package dev.outrider.core.client;

/** A CA certificate in PEM for tests of other packages (made in memory, no key kept). */
public final class TestCa {
    private TestCa() {
    }

    public static String pem() {
        return TestPki.Ca.create("test").pem();
    }
}
