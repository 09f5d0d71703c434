package dev.outrider.proxy.control;

/** The sidecar cannot start its link to the control plane; the message names the field or the cause. */
public final class ControlPlaneLinkException extends RuntimeException {
    public ControlPlaneLinkException(String message) {
        super(message);
    }

    public ControlPlaneLinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
