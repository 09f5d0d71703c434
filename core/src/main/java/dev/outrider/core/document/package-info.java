/**
 * Reading Kubernetes-style YAML (or JSON) documents into validated values, shared by the sidecar's policy reader
 * ({@link dev.outrider.core.policy.PolicyDocuments}), the sidecar's bootstrap file reader and the control plane's
 * validation of the documents and API bodies it is sent: {@link dev.outrider.core.document.DocumentSyntax} parses
 * (Jackson; duplicate keys refused; YAML anchors and aliases refused by
 * {@link dev.outrider.core.document.NoAliasYamlFactory}, the factory every YAML reader of the project builds on) and
 * words parse errors, {@link dev.outrider.core.document.DocumentFields} reads one mapping field by field, refusing
 * unknown fields, and reports every problem through the caller's {@link dev.outrider.core.document.FieldErrors}
 * with the field's path, worded by a {@link dev.outrider.core.document.FieldWording} (the bootstrap file keeps its
 * own wording). {@link dev.outrider.core.document.Durations} is the one duration grammar of the project. Each
 * reader stops at the first problem. Pure functions and objects confined to the reading thread.
 */
package dev.outrider.core.document;
