package id.ktpbridge.ingest;

/**
 * Why an input was refused before anything was sent to OneKYC. The names are the documented
 * {@code reasonCode} values of REJECTED result records.
 */
public enum RejectReason {
    EMPTY_FILE("the file is empty"),
    FILE_TOO_LARGE("the file is larger than ktp.source.max-size"),
    UNSUPPORTED_FORMAT("the file is not a JPEG or PNG image (checked by its first bytes)"),
    CORRUPT_IMAGE("the image is truncated or corrupt (its format's end marker is missing)"),
    SYMBOLIC_LINK("the input is a symbolic link; only regular files are taken"),
    NOT_REGULAR_FILE("the input is not a regular file (a named pipe, a socket, a device); only regular files are taken"),
    INVALID_PARTNER_USER_ID("no valid partner user id could be derived for the file"),
    INVALID_PARTNER_USER_ID_TYPE("the partner user id type is not valid"),
    INVALID_SIDECAR("the sidecar JSON file cannot be used"),
    DUPLICATE_CONTENT("the same image content was already submitted (ktp.source.dedupe=content)"),
    UNREADABLE_SOURCE("the input could not be read");

    private final String description;

    RejectReason(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
