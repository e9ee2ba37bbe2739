package id.ktpbridge.ingest;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Works out whose KTP an input is. A value given by the source (sidecar, object metadata) wins;
 * otherwise the configured pattern's named group {@code user} is taken from the file name;
 * otherwise the file's base name ({@code u00017.png} -> {@code u00017}). The result must match
 * the allowed shape, which keeps header-breaking characters (CR/LF, spaces, slashes) out.
 */
public class PartnerUserResolver {

    private final Pattern namePattern;
    private final Pattern allowedUserId;
    private final Pattern allowedUserIdType;
    private final String defaultType;

    public PartnerUserResolver(String namePattern, String allowedUserId, String allowedUserIdType, String defaultType) {
        this.namePattern = namePattern == null || namePattern.isBlank() ? null : Pattern.compile(namePattern);
        if (this.namePattern != null && !namePattern.contains("?<user>")) {
            throw new IllegalStateException("Setting 'ktp.source.user-id-pattern' (KTP_SOURCE_USER_ID_PATTERN) must"
                    + " contain a named group (?<user>...)");
        }
        this.allowedUserId = Pattern.compile(allowedUserId);
        this.allowedUserIdType = Pattern.compile(allowedUserIdType);
        if (defaultType != null && !defaultType.isEmpty() && !this.allowedUserIdType.matcher(defaultType).matches()) {
            // every input without a type of its own would be rejected for it, the setting's fault
            throw new IllegalStateException("Setting 'gtf.partner-user-id-type' (GTF_PARTNER_USER_ID_TYPE) does not"
                    + " match ktp.source.user-id-type-allowed (" + allowedUserIdType + ")");
        }
        this.defaultType = defaultType;
    }

    public record PartnerUser(String id, String type) {

        /** Without the id, which may be a NIK. */
        @Override
        public String toString() {
            return "PartnerUser[type=" + type + "]";
        }
    }

    public PartnerUser resolve(String fileName, String givenId, String givenType) {
        String id = givenId != null ? givenId : fromName(fileName).orElseThrow(() -> new InputRejectedException(
                RejectReason.INVALID_PARTNER_USER_ID, namePattern != null && namePattern.matcher(baseName(fileName))
                        .matches() ? "the group user of ktp.source.user-id-pattern took no part in the match"
                        : "the file name does not match ktp.source.user-id-pattern"));
        if (!allowedUserId.matcher(id).matches()) {
            throw new InputRejectedException(RejectReason.INVALID_PARTNER_USER_ID,
                    "the partner user id does not match ktp.source.user-id-allowed");
        }
        String type = givenType != null ? givenType : defaultType;
        if (type == null || !allowedUserIdType.matcher(type).matches()) {
            throw new InputRejectedException(RejectReason.INVALID_PARTNER_USER_ID_TYPE,
                    "the partner user id type does not match ktp.source.user-id-type-allowed");
        }
        return new PartnerUser(id, type);
    }

    private Optional<String> fromName(String fileName) {
        String name = baseName(fileName);
        if (namePattern == null) {
            return Optional.of(name);
        }
        Matcher m = namePattern.matcher(name);
        return m.matches() ? Optional.ofNullable(m.group("user")) : Optional.empty();
    }

    /**
     * {@code dir/u00017.png} -> {@code u00017}; a backslash counts as a folder too ({@code
     * C:\scans\k2.jpg}: an object key, or a name unpacked from an archive made on Windows).
     */
    public static String baseName(String fileName) {
        int folder = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
        return withoutExtension(fileName.substring(folder + 1));
    }

    /** {@code u00017.png} -> {@code u00017}: a file's name without its last extension, nothing else removed. */
    public static String withoutExtension(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
