package org.quantsr;

/** A quantsr failure: the message is "QSR_ERROR_...: what: qsr_last_error()". */
public class QuantsrException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public QuantsrException(String message) {
        super(message);
    }
}
