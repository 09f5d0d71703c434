/**
 * {@code outrider ctl}, the operator's command line for the control plane: {@link dev.outrider.core.ctl.CtlCommand}
 * and its subcommands ({@code apply}, {@code get}, {@code delete}, {@code status}, {@code join-token create}), with
 * the connection options of {@link dev.outrider.core.ctl.CtlConnection}. Everything but those two classes is
 * package-private.
 */
package dev.outrider.core.ctl;
