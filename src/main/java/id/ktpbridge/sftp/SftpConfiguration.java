package id.ktpbridge.sftp;

import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.Settings;
import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ingest.FileSidecar;
import id.ktpbridge.ingest.SettledInPlace;
import id.ktpbridge.ingest.SourceClaims;
import id.ktpbridge.ingest.SourceMoveRefusals;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.component.file.remote.SftpRemoteFile;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.PropertiesFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wiring of the SFTP source ({@code routes/ingest-sftp.yaml}). With {@code ktp.source.sftp.enabled=true}
 * it checks the settings and the server before anything else starts (it is added before
 * {@code BridgeConfiguration}): a wrong password or an unreachable host stops the start with one
 * message naming the setting. It always binds the beans and placeholders the route refers to, so
 * the disabled route still loads.
 *
 * <ul>
 *   <li>{@code sftpSidecar}: reads and moves the {@code <base>.json} sidecars on the server;</li>
 *   <li>{@code sftpPollErrors}: one log line per failed poll instead of a stack trace;</li>
 *   <li>{@code sftpListingFilter}, {@code sftpOversizedListingFilter}, {@code sftpMoveRefusals}: files
 *       dated ahead are dated now, names JSch cannot take literally are left (SftpUnsafeNames), files
 *       whose move was refused after their outcome are not taken again (SettledInPlace), and files
 *       over the size limit and symbolic links go to the consumer that does not download
 *       (SftpLinks);</li>
 *   <li>{@code sftpLinks}: marks an input listed as a symbolic link, which is rejected unread;</li>
 *   <li>{@code sourceClaims}: a file's claim, once confirmed, names its input (SourceClaims);</li>
 *   <li>{@code sftpGoneCheck} (source on only): whether the files of inputs left waiting are still on
 *       the server, for the sweep of gone inputs (SftpGoneCheck);</li>
 *   <li>{@code {{sftp-dir:KEY}}}: a done/failed folder setting (relative to
 *       {@code ktp.source.sftp.directory}) as a path from the login folder;</li>
 *   <li>{@code {{sftp-known-hosts:file}}}: {@code ktp.source.sftp.known-hosts-file} when host keys
 *       are checked, nothing otherwise;</li>
 *   <li>{@code {{sftp-after-success:move}}} / {@code {{sftp-after-success:delete}}}: the consumer
 *       options for {@code ktp.source.sftp.after-success} ({@code move} to the done folder or
 *       {@code delete}); camel-ftp refuses {@code move} and {@code delete} together, so the unused
 *       one resolves to nothing and is dropped from the endpoint.</li>
 *   <li>{@code {{sftp-algorithms:KEY}}}: an algorithm list setting without its spaces, or nothing
 *       when it is empty (the endpoint then keeps JSch's defaults).</li>
 * </ul>
 */
public class SftpConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(SftpConfiguration.class);

    @Override
    public void configure(CamelContext context) throws Exception {
        PropertiesComponent properties = context.getPropertiesComponent();
        properties.addPropertiesFunction(new DirFunction(context));
        properties.addPropertiesFunction(new AfterSuccessFunction(context));
        properties.addPropertiesFunction(new KnownHostsFunction(context));
        properties.addPropertiesFunction(new AlgorithmsFunction(context));

        Settings s = new Settings(context);
        SftpSettings settings = null;
        if (!s.flag(SftpSettings.ENABLED, false)) {
            // Camel creates the consumer of a route that does not start too, and that needs a host
            if (s.optional(SftpSettings.HOST).isEmpty()) {
                properties.addOverrideProperty(SftpSettings.HOST, "sftp-source-disabled.invalid");
            }
        } else {
            try {
                settings = SftpSettings.from(s);
                if (s.flag(SftpSettings.STARTUP_CHECK, true)) {
                    SftpStartupCheck.run(settings);
                } else {
                    LOG.info("SFTP source: start-up check skipped ({}=false): {}", SftpSettings.STARTUP_CHECK, settings);
                }
            } catch (IllegalStateException e) {
                // one clear line in the log; the exception stops the start
                LOG.error("{}", e.getMessage());
                throw e;
            }
        }
        // only apply() is used, which needs no folders
        FileSidecar rules = new FileSidecar(new ObjectMapper(), null, null);
        SettledInPlace settled = new SettledInPlace();
        SftpSidecar sidecar = new SftpSidecar(rules, settings, new FailureReport(new ObjectMapper()), settled);
        sidecar.readWindow(s.duration("ktp.source.sftp.broken-read-window",
                id.ktpbridge.submit.Intake.DEFAULT_BROKEN_READ_WINDOW));
        context.getRegistry().bind("sftpSidecar", sidecar);
        if (settings != null) {
            // whether the files of inputs left waiting are still on the server (ReplacedInputs' sweep)
            context.getRegistry().bind("sftpGoneCheck", new SftpGoneCheck(settings));
        }
        context.addService(sidecar);
        // case-insensitive, as Camel's consumer compiles the same rule
        java.util.regex.Pattern include = java.util.regex.Pattern.compile(s.optional("ktp.source.sftp.include")
                .orElseGet(() -> s.string("ktp.source.include")), java.util.regex.Pattern.CASE_INSENSITIVE);
        UnreadableFiles unreadable = new UnreadableFiles(settings == null ? null : settings.directory());
        long minAge = s.duration("ktp.source.sftp.read-lock-min-age", Duration.ofSeconds(5)).toMillis();
        // with a minimum age the listing filter (SftpRecentlyChanged) already holds back every file
        // changed within it, which is all Camel's "changed" read lock then checks; the lock would only
        // cost a listing of the whole folder per file (JSch lists a file's folder to stat it)
        properties.addOverrideProperty("sftp.read-lock", minAge > 0 ? "none" : "changed");
        GenericFileFilter<SftpRemoteFile<?>> checks = settled.before(unreadable.before(new SftpUnsafeNames(
                settings != null && settings.deleteAfterSuccess(), include,
                SftpLinks.untouched(new SftpRecentlyChanged(minAge, new SftpFutureDated(sidecar, include))))));
        // an input given back a moment ago with a pause before its next try is left out until then
        // (else the greedy listing took it again at once), before any other check looks at it
        GenericFileFilter<SftpRemoteFile<?>> listing = file -> (file.isDirectory() || !sidecar.paused(file))
                && checks.accept(file);
        // one listing filter per consumer of the folder: which files it takes (size, links), see SftpLinks
        long maxSize = s.number("ktp.source.max-size", 10L << 20);
        context.getRegistry().bind("sftpListingFilter", SftpLinks.share(true, maxSize, listing));
        context.getRegistry().bind("sftpOversizedListingFilter", SftpLinks.share(false, maxSize, listing));
        context.getRegistry().bind("sftpLinks", new SftpLinks());
        context.getRegistry().bind("sftpMoveRefusals", new SourceMoveRefusals(settled, sidecar::moveMade));
        context.getRegistry().bind("sourceClaims", new SourceClaims());
        long pause = s.duration("ktp.source.sftp.poll-delay", Duration.ofSeconds(5)).toMillis()
                * (1 + s.integer("ktp.source.sftp.error-backoff-polls", 12));
        context.getRegistry().bind("sftpPollErrors",
                new SftpPollErrors(context, settings == null ? "the SFTP server" : settings.server(), pause, unreadable));
    }

    /** {@code {{sftp-dir:ktp.source.sftp.failed-dir}}} -> {@code inbox/.failed} */
    private static final class DirFunction implements PropertiesFunction {
        private final CamelContext context;

        DirFunction(CamelContext context) {
            this.context = context;
        }

        @Override
        public String getName() {
            return "sftp-dir";
        }

        @Override
        public String apply(String key) {
            return SftpSettings.resolve(context.resolvePropertyPlaceholders("{{" + SftpSettings.DIRECTORY + "}}"),
                    context.resolvePropertyPlaceholders("{{" + key.trim() + "}}"));
        }
    }

    /**
     * {@code {{sftp-after-success:move}}}: the {@code move} expression, or nothing with
     * {@code after-success=delete}; {@code {{sftp-after-success:delete}}}: {@code true} or {@code false}.
     */
    private static final class AfterSuccessFunction implements PropertiesFunction {
        private final CamelContext context;

        AfterSuccessFunction(CamelContext context) {
            this.context = context;
        }

        @Override
        public String getName() {
            return "sftp-after-success";
        }

        @Override
        public String apply(String option) {
            boolean delete = "delete".equalsIgnoreCase(
                    context.resolvePropertyPlaceholders("{{" + SftpSettings.AFTER_SUCCESS + "}}").trim());
            return switch (option.trim()) {
                case "delete" -> String.valueOf(delete);
                // the done folder, beside (not over) a file of the same name: SftpSidecar.doneTarget
                case "move" -> delete ? null : "${bean:sftpSidecar?method=doneTarget}";
                default -> throw new IllegalArgumentException("sftp-after-success: unknown option " + option);
            };
        }

        @Override
        public boolean optional(String option) {
            return "move".equals(option.trim());
        }
    }

    /**
     * {@code {{sftp-known-hosts:file}}}: the known_hosts file for Camel's sessions, only when the
     * server's key is checked. With checking off JSch adds the key it was shown, unverified, to the
     * file it was given; once checking is turned on, that key would then be trusted.
     */
    private static final class KnownHostsFunction implements PropertiesFunction {
        private final CamelContext context;

        KnownHostsFunction(CamelContext context) {
            this.context = context;
        }

        @Override
        public String getName() {
            return "sftp-known-hosts";
        }

        @Override
        public String apply(String option) {
            boolean checked = "yes".equals(
                    context.resolvePropertyPlaceholders("{{" + SftpSettings.STRICT_HOST_KEY_CHECKING + "}}").trim());
            return checked ? context.resolvePropertyPlaceholders("{{" + SftpSettings.KNOWN_HOSTS_FILE + "}}") : null;
        }

        @Override
        public boolean optional(String option) {
            return true;
        }
    }

    /**
     * {@code {{sftp-algorithms:ktp.source.sftp.kex-algorithms}}}: the list as JSch takes it, or
     * nothing when the setting is empty: Camel would hand an empty host key list to JSch as it is,
     * which leaves no algorithm to agree on. SftpSettings checks the names at start.
     */
    private static final class AlgorithmsFunction implements PropertiesFunction {
        private final CamelContext context;

        AlgorithmsFunction(CamelContext context) {
            this.context = context;
        }

        @Override
        public String getName() {
            return "sftp-algorithms";
        }

        @Override
        public String apply(String key) {
            return context.getPropertiesComponent().resolveProperty(key.trim())
                    .map(v -> v.replaceAll("\\s+", "")).filter(v -> !v.isEmpty()).orElse(null);
        }

        @Override
        public boolean optional(String key) {
            return true;
        }
    }
}
