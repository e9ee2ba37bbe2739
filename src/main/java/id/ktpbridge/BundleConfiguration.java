package id.ktpbridge;

import id.ktpbridge.collect.CollectRoutes;
import id.ktpbridge.s3.S3Configuration;
import id.ktpbridge.sftp.SftpConfiguration;
import id.ktpbridge.submit.SubmitRoutes;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;

/**
 * The bundle's whole Java part as one configuration class: the checks of the sources, every bean
 * the YAML routes call, and the Java DSL routes behind their {@code direct:} endpoints.
 *
 * <p>{@link BridgeMain} uses it for {@code java -jar}. Any other runtime built on Camel Main
 * (Camel JBang, Camel K) gets the same by naming it in
 * {@code camel.main.configuration-classes=id.ktpbridge.BundleConfiguration}; it has to supply the
 * YAML routes and {@code config/application.properties} itself, and batch mode
 * ({@code ktp.exit-when-done}) is only available under {@link BridgeMain}.
 */
public class BundleConfiguration implements CamelConfiguration {

    private final BridgeMain main;

    /** For runtimes that instantiate configuration classes by name. */
    public BundleConfiguration() {
        this(null);
    }

    /** @param main the bundle's own main, which batch mode stops when the batch is done; may be null */
    public BundleConfiguration(BridgeMain main) {
        this.main = main;
    }

    @Override
    public void configure(CamelContext context) throws Exception {
        // under another Camel Main runtime (BridgeMain has it from the start): the routes see the values the checks saw
        TrimmedSettings.install(context);
        try {
            checkBatchMode(new Settings(context));
            // the checks come first: a wrong setting stops the start before the ledger and sandbox open
            new StartupChecks(new Settings(context)).run();
            // once Camel's own settings are applied to the context, before a route starts
            context.addStartupListener((ctx, alreadyStarted) -> id.ktpbridge.ops.TracingWithoutData.apply(ctx));
            new S3Configuration().configure(context);
            new SftpConfiguration().configure(context);
            new BridgeConfiguration(main).configure(context);
            context.addRoutes(new SubmitRoutes());
            context.addRoutes(new CollectRoutes());
        } finally {
            // last, once every setting the start reads has been read; on a refused start too, which a
            // misspelt name (KTP_SOURCE_S3_BUKET: "Missing required setting") has often caused
            UnknownSettings.warn(context, System.getenv());
        }
    }

    /** Batch mode ({@code ktp.exit-when-done}) is for the bundle's own start and the file drop folder. */
    private void checkBatchMode(Settings s) {
        if (!s.flag("ktp.exit-when-done", false)) {
            return;
        }
        if (main == null) {
            throw new IllegalStateException("ktp.exit-when-done=true (batch mode) needs the bundle's own start"
                    + " (java -jar ktp-scan-bridge.jar); under Camel JBang or Camel K the bundle runs as a service");
        }
        if (s.flag("ktp.source.sftp.enabled", false) || s.flag("ktp.source.s3.enabled", false)) {
            // the batch ends when the drop folder is empty; a bucket or an SFTP folder is only seen at
            // its source's next poll, so the run could end before it was ever looked at
            throw new IllegalStateException("ktp.exit-when-done=true (batch mode) drains the file drop folder only;"
                    + " with ktp.source.sftp.enabled or ktp.source.s3.enabled the bundle runs as a service");
        }
        if (!s.flag("ktp.source.file.enabled", true)) {
            throw new IllegalStateException("ktp.exit-when-done=true (batch mode) drains the file drop folder,"
                    + " which ktp.source.file.enabled=false turns off");
        }
    }
}
