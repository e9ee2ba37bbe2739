package id.ktpbridge.sftp;

/** The SFTP source cannot work with its settings; the message names the setting to fix. */
public class SftpCheckException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public SftpCheckException(String message, Throwable cause) {
        super(message, cause);
    }
}
