package id.ktpbridge.result;

/**
 * Thrown by a target route when the target refused a result for good (retrying cannot help, e.g.
 * an HTTP 4xx). Any other exception means "try again later".
 */
public class PermanentDeliveryFailure extends RuntimeException {

    public PermanentDeliveryFailure(String message) {
        super(message);
    }
}
