package dev.outrider.controlplane.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.core.files.AtomicFiles;
import dev.outrider.core.model.DnsLabel;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Reads a {@link FileStore} directory once, at open: deletes leftover temp files, parses every resource file
 * and fails on anything corrupt or out of place, naming its path. Finally fsyncs every directory, so that
 * whatever it loaded (possibly renamed by a process killed before its directory fsync) is durable before
 * anyone reads it.
 */
final class FileStoreLoader {
    /** A volume's root often holds this (ext4); it is never part of the store. */
    private static final String LOST_AND_FOUND = "lost+found";

    private final Path root;
    private final ObjectMapper json;
    private final Set<String> rootFiles;

    /** @param rootFiles names of the store's own files in the root directory, not resources */
    FileStoreLoader(Path root, ObjectMapper json, Set<String> rootFiles) {
        this.root = requireNonNull(root, "root");
        this.json = requireNonNull(json, "json");
        this.rootFiles = Set.copyOf(rootFiles);
    }

    record Loaded(Map<ResourceKey, StoredResource> resources, List<Path> directories, long revision) {
    }

    Loaded load(String revisionFileName) throws IOException {
        Map<ResourceKey, StoredResource> resources = new HashMap<>();
        List<Path> namespaceDirs = new ArrayList<>();
        List<Path> allDirs = new ArrayList<>();
        long revision = 0;
        Path revisionFile = root.resolve(revisionFileName);
        if (Files.exists(revisionFile)) {
            revision = readRevision(revisionFile);
        }
        allDirs.add(root);
        for (Path kindDir : entries(root)) {
            String kind = kindDir.getFileName().toString();
            if (skip(kindDir) || rootFiles.contains(kind) || kind.equals(LOST_AND_FOUND)) {
                continue;
            }
            requireDirectory(kindDir, ResourceKey.isKind(kind), "a kind directory ([A-Za-z]+)");
            allDirs.add(kindDir);
            for (Path namespaceDir : entries(kindDir)) {
                if (skip(namespaceDir)) {
                    continue;
                }
                String namespace = namespaceDir.getFileName().toString();
                requireDirectory(namespaceDir, DnsLabel.isValid(namespace), "a namespace directory (DNS label)");
                allDirs.add(namespaceDir);
                namespaceDirs.add(namespaceDir);
                for (Path file : entries(namespaceDir)) {
                    if (skip(file)) {
                        continue;
                    }
                    StoredResource resource = readResource(file, kind, namespace);
                    resources.put(resource.key(), resource);
                    revision = Math.max(revision, resource.resourceVersion());
                }
            }
        }
        // Deepest first, so each directory's own entries are durable before its parent's.
        for (Path dir : allDirs.reversed()) {
            AtomicFiles.fsyncDirectory(dir);
        }
        return new Loaded(resources, namespaceDirs, revision);
    }

    private StoredResource readResource(Path file, String kind, String namespace) throws IOException {
        String fileName = file.getFileName().toString();
        if (!Files.isRegularFile(file) || !fileName.endsWith(".json")
                || !DnsLabel.isValid(fileName.substring(0, fileName.length() - ".json".length()))) {
            throw outOfPlace(file, "a resource file <name>.json");
        }
        String name = fileName.substring(0, fileName.length() - ".json".length());
        ResourceFile content;
        try {
            content = json.readValue(Files.readAllBytes(file), ResourceFile.class);
        } catch (IOException | RuntimeException e) {
            throw corrupt(file, e.getMessage(), e);
        }
        if (content.format() != ResourceFile.FORMAT) {
            throw corrupt(file, "unknown format " + content.format() + " (expected " + ResourceFile.FORMAT + ")", null);
        }
        if (!kind.equals(content.kind()) || !namespace.equals(content.namespace()) || !name.equals(content.name())) {
            throw corrupt(file, "it holds " + content.kind() + "/" + content.namespace() + "/" + content.name()
                    + ", not " + kind + "/" + namespace + "/" + name, null);
        }
        if (content.resourceVersion() <= 0) {
            throw corrupt(file, "resourceVersion " + content.resourceVersion() + " is not positive", null);
        }
        return new StoredResource(new ResourceKey(kind, namespace, name), content.resourceVersion(),
                content.document());
    }

    private long readRevision(Path file) throws IOException {
        RevisionFile content;
        try {
            content = json.readValue(Files.readAllBytes(file), RevisionFile.class);
        } catch (IOException | RuntimeException e) {
            throw corrupt(file, e.getMessage(), e);
        }
        if (content.format() != RevisionFile.FORMAT || content.revision() < 0) {
            throw corrupt(file, "format " + content.format() + ", revision " + content.revision(), null);
        }
        return content.revision();
    }

    /** Leftover temp files are deleted and skipped; they were never acknowledged. */
    private static boolean skip(Path entry) throws IOException {
        if (AtomicFiles.isTemp(entry) && Files.isRegularFile(entry)) {
            Files.delete(entry);
            return true;
        }
        return false;
    }

    private static List<Path> entries(Path dir) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            stream.forEach(entries::add);
        }
        entries.sort(null); // deterministic: the first problem reported is the same every time
        return entries;
    }

    private static void requireDirectory(Path path, boolean validName, String expected) throws IOException {
        if (!validName || !Files.isDirectory(path)) {
            throw outOfPlace(path, expected);
        }
    }


    private static IOException outOfPlace(Path path, String expected) {
        return new IOException("unexpected entry in store directory: " + path + " is not " + expected
                + "; move it away and reopen");
    }

    private static IOException corrupt(Path file, String reason, Exception cause) {
        return new IOException("corrupt store file " + file + ": " + reason, cause);
    }
}
