package dev.outrider.controlplane.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static dev.outrider.controlplane.store.Store.ANY_VERSION;
import static dev.outrider.controlplane.store.Store.MUST_NOT_EXIST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileStoreTest {
    private static final ResourceKey A = new ResourceKey("AuthorizationPolicy", "shop", "a");
    private static final ResourceKey B = new ResourceKey("AuthorizationPolicy", "shop", "b");
    private static final ResourceKey C = new ResourceKey("AuthorizationPolicy", "billing", "c");
    private static final ResourceKey E = new ResourceKey("Endpoints", "shop", "a");

    @TempDir
    Path root;

    @Test
    void putGetListDelete() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            assertThat(store.revision()).isZero();
            assertThat(store.get(A)).isEmpty();

            StoredResource a1 = store.put(A, bytes("a1"), MUST_NOT_EXIST);
            assertThat(a1.resourceVersion()).isEqualTo(1);
            assertThat(store.put(B, bytes("b1"), ANY_VERSION).resourceVersion()).isEqualTo(2);
            assertThat(store.put(C, bytes("c1"), MUST_NOT_EXIST).resourceVersion()).isEqualTo(3);
            assertThat(store.put(E, bytes("e1"), MUST_NOT_EXIST).resourceVersion()).isEqualTo(4);
            StoredResource a2 = store.put(A, bytes("a2"), a1.resourceVersion());
            assertThat(a2.resourceVersion()).isEqualTo(5);
            assertThat(store.revision()).isEqualTo(5);

            assertThat(store.get(A)).contains(a2);
            assertThat(text(store.get(A).orElseThrow())).isEqualTo("a2");
            assertThat(store.list("AuthorizationPolicy", null)).extracting(StoredResource::key)
                    .containsExactly(C, A, B);
            assertThat(store.list("AuthorizationPolicy", "shop")).extracting(StoredResource::key)
                    .containsExactly(A, B);
            assertThat(store.list("Endpoints", "billing")).isEmpty();
            assertThat(store.list("Nothing", null)).isEmpty();

            assertThat(store.delete(B, ANY_VERSION)).isTrue();
            assertThat(store.revision()).isEqualTo(6);
            assertThat(store.get(B)).isEmpty();
            assertThat(store.delete(B, ANY_VERSION)).isFalse();
            assertThat(store.delete(B, 2)).isFalse();
            assertThat(store.revision()).isEqualTo(6);
            assertThat(store.delete(A, a2.resourceVersion())).isTrue();
            assertThat(Files.exists(root.resolve("AuthorizationPolicy/shop/a.json"))).isFalse();
        }
    }

    @Test
    void conflictsNameKeyExpectedAndActual() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
            store.put(A, bytes("a2"), ANY_VERSION);

            assertThatThrownBy(() -> store.put(A, bytes("x"), MUST_NOT_EXIST))
                    .isInstanceOfSatisfying(ConflictException.class, e -> {
                        assertThat(e.key()).isEqualTo(A);
                        assertThat(e.expectedVersion()).isZero();
                        assertThat(e.actualVersion()).isEqualTo(2);
                    })
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected it not to exist,"
                            + " but it is at version 2");
            assertThatThrownBy(() -> store.put(A, bytes("x"), 1))
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected version 1, but it is at version 2");
            assertThatThrownBy(() -> store.put(B, bytes("x"), 7))
                    .hasMessage("conflict on AuthorizationPolicy/shop/b: expected version 7, but it does not exist");
            assertThatThrownBy(() -> store.delete(A, 1))
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected version 1, but it is at version 2");
            assertThatThrownBy(() -> store.delete(A, MUST_NOT_EXIST))
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected it not to exist,"
                            + " but it is at version 2");
            assertThatThrownBy(() -> store.put(A, bytes("x"), -2))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expectedVersion must be -1 (any), 0 (must not exist) or a positive version: -2");

            // A conflict changes nothing.
            assertThat(store.revision()).isEqualTo(2);
            assertThat(text(store.get(A).orElseThrow())).isEqualTo("a2");
            assertThat(store.get(B)).isEmpty();
        }
    }

    @Test
    void advanceGrowsTheRevisionDurablyWithoutChangingResources() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
            assertThat(store.advance()).isEqualTo(2);
            assertThat(store.advance()).isEqualTo(3);
            assertThat(store.revision()).isEqualTo(3);
            assertThat(store.get(A).orElseThrow().resourceVersion()).isEqualTo(1);
        }
        try (FileStore store = FileStore.open(root)) {
            assertThat(store.revision()).isEqualTo(3); // no resource holds version 3: revision.json does
            assertThat(store.put(B, bytes("b1"), MUST_NOT_EXIST).resourceVersion()).isEqualTo(4);
        }
    }

    @Test
    void versionsStayMonotonicAcrossReopenEvenAfterDeletingTheNewest() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
            store.put(B, bytes("b1"), MUST_NOT_EXIST);
            store.put(C, bytes("c1"), MUST_NOT_EXIST);
            store.delete(C, 3); // revision 4; the file that held version 3 is gone
            assertThat(store.revision()).isEqualTo(4);
        }
        try (FileStore store = FileStore.open(root)) {
            assertThat(store.revision()).isEqualTo(4);
            assertThat(store.get(A).orElseThrow().resourceVersion()).isEqualTo(1);
            assertThat(text(store.get(B).orElseThrow())).isEqualTo("b1");
            // Re-created: a new version, never the 3 a client may still hold.
            assertThat(store.put(C, bytes("c2"), MUST_NOT_EXIST).resourceVersion()).isEqualTo(5);
            assertThat(store.put(A, bytes("a2"), 1).resourceVersion()).isEqualTo(6);
        }
        try (FileStore store = FileStore.open(root)) {
            assertThat(store.revision()).isEqualTo(6);
            assertThat(store.list("AuthorizationPolicy", null)).extracting(StoredResource::resourceVersion)
                    .containsExactly(5L, 6L, 2L);
        }
    }

    @Test
    void leftoverTempFilesAreIgnoredAndDeleted() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
        }
        Path dir = root.resolve("AuthorizationPolicy/shop");
        Path leftover = dir.resolve(".a.json.12345.tmp");
        Files.writeString(leftover, "{\"format\":1,\"kind\":\"Auth"); // torn, as a crash mid-write leaves it
        Path leftoverNew = dir.resolve(".b.json.999.tmp");
        Files.writeString(leftoverNew, "");
        Path leftoverRevision = root.resolve(".revision.json.1.tmp");
        Files.writeString(leftoverRevision, "{");

        try (FileStore store = FileStore.open(root)) {
            assertThat(text(store.get(A).orElseThrow())).isEqualTo("a1");
            assertThat(store.get(B)).isEmpty();
            assertThat(store.revision()).isEqualTo(1);
        }
        assertThat(leftover).doesNotExist();
        assertThat(leftoverNew).doesNotExist();
        assertThat(leftoverRevision).doesNotExist();
    }

    @Test
    void corruptFileFailsOpenNamingThePath() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
        }
        Path file = root.resolve("AuthorizationPolicy/shop/a.json");
        Files.writeString(file, "{\"format\":1,\"kind\":\"Authoriz");

        assertThatThrownBy(() -> FileStore.open(root))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("corrupt store file " + file.toAbsolutePath() + ": ");
        // The failed open released the directory: after repair it opens.
        Files.delete(file);
        try (FileStore store = FileStore.open(root)) {
            assertThat(store.get(A)).isEmpty();
        }
    }

    @Test
    void fileHoldingAnotherKeyOrNoVersionIsCorrupt() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
        }
        Path file = root.resolve("AuthorizationPolicy/shop/a.json");
        Path copy = root.resolve("AuthorizationPolicy/shop/b.json");
        Files.copy(file, copy);
        assertThatThrownBy(() -> FileStore.open(root))
                .hasMessage("corrupt store file " + copy.toAbsolutePath()
                        + ": it holds AuthorizationPolicy/shop/a, not AuthorizationPolicy/shop/b");
        Files.writeString(copy, "{\"format\":1,\"kind\":\"AuthorizationPolicy\",\"namespace\":\"shop\","
                + "\"name\":\"b\",\"document\":\"\"}");
        assertThatThrownBy(() -> FileStore.open(root))
                .hasMessageStartingWith("corrupt store file " + copy.toAbsolutePath() + ": ")
                .hasMessageContaining("resourceVersion");
    }

    @Test
    void strayEntryFailsOpenNamingThePath() throws IOException {
        Path stray = Files.createDirectories(root.resolve("Policy/shop")).resolve("notes.txt");
        Files.writeString(stray, "hello");
        assertThatThrownBy(() -> FileStore.open(root))
                .hasMessage("unexpected entry in store directory: " + stray.toAbsolutePath()
                        + " is not a resource file <name>.json; move it away and reopen");
    }

    @Test
    void oneStorePerDirectory() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            assertThatThrownBy(() -> FileStore.open(root))
                    .hasMessage("store directory " + store.root() + " is in use by another store");
        }
        FileStore store = FileStore.open(root);
        store.close();
        store.close();
        assertThatThrownBy(() -> store.get(A)).isInstanceOf(IllegalStateException.class)
                .hasMessage("store " + store.root() + " is closed");
    }

    @Test
    void filesHoldNoTempLeftoversAfterWrites() throws IOException {
        try (FileStore store = FileStore.open(root)) {
            for (int i = 0; i < 20; i++) {
                store.put(A, bytes("a" + i), ANY_VERSION);
            }
            store.delete(A, ANY_VERSION);
            store.put(B, bytes("b"), MUST_NOT_EXIST);
        }
        try (Stream<Path> files = Files.walk(root)) {
            assertThat(files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()))
                    .containsExactlyInAnyOrder(".lock", "revision.json", "audit.jsonl",
                            "AuthorizationPolicy/shop/b.json");
        }
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static String text(StoredResource resource) {
        return new String(resource.document(), StandardCharsets.UTF_8);
    }

    @Test
    void anAuditAppendCutShortByACrashIsDroppedAndAnUnreadableLineFailsTheOpenNamingIt() throws IOException {
        AuditRetention retention = new AuditRetention(10, java.time.Duration.ofDays(1));
        java.time.Instant t = java.time.Instant.parse("2026-12-07T10:00:00Z");
        try (FileStore store = FileStore.open(root)) {
            store.appendAudit(t, bytes("{\"n\":1}"), retention);
            store.appendAudit(t.plusSeconds(1), bytes("{\"n\":2}"), retention);
        }
        Path file = root.resolve("audit.jsonl");
        String whole = Files.readString(file);
        assertThat(whole).endsWith("\n").contains("\"record\":{\"n\":2}");
        Files.writeString(file, whole + "{\"time\":\"2026-12-07T10:00:02Z\",\"rec", StandardCharsets.UTF_8);

        try (FileStore store = FileStore.open(root)) {
            assertThat(store.listAudit(null)).extracting(b -> new String(b, StandardCharsets.UTF_8))
                    .containsExactly("{\"n\":1}", "{\"n\":2}");
            assertThat(Files.readString(file)).as("the fragment is cut off").isEqualTo(whole);
            store.appendAudit(t.plusSeconds(3), bytes("{\"n\":3}"), retention);
        }
        try (FileStore store = FileStore.open(root)) {
            assertThat(store.listAudit(null)).hasSize(3);
        }

        Files.writeString(file, "{\"time\":\"yesterday\",\"record\":{}}\n" + whole, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> FileStore.open(root)).isInstanceOf(IOException.class)
                .hasMessageContaining(file + ":1: not an audit record");
    }
}
