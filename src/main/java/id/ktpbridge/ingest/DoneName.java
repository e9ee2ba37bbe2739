package id.ktpbridge.ingest;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;

/**
 * Where a submitted file of the drop folder goes in the done folder: under its own name, or, when
 * a file of that name is there already (a scanner that numbers its images anew each day), under
 * {@code <ledger id>-<name>} beside it; so too when its sidecar's name is there. Camel's move
 * would delete the earlier file first. Decided once per input, so its sidecar follows under the
 * same name.
 */
public final class DoneName {

    /** Exchange property: whether the input goes in beside a file of the same name. */
    static final String ASIDE = "KtpDoneAside";
    /** Exchange property: the file name of the input's sidecar, when it has one. */
    static final String SIDECAR = "KtpDoneSidecar";

    private final Path doneDir;

    public DoneName(Path doneDir) {
        this.doneDir = doneDir;
    }

    /** Camel bean method, the file consumer's {@code move} expression: the done path of the input's file. */
    public String target(Exchange exchange) {
        String name = exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class);
        return doneDir.resolve(name(exchange, name)).toString();
    }

    /** The name {@code fileName} (the image's or its sidecar's) takes in the done folder. */
    String name(Exchange exchange, String fileName) {
        return aside(exchange) ? Settlement.asideName(exchange.getProperty(WorkItem.LEDGER_ID, String.class), fileName)
                : fileName;
    }

    private boolean aside(Exchange exchange) {
        Boolean known = exchange.getProperty(ASIDE, Boolean.class);
        if (known == null) {
            String image = exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class);
            // its sidecar's name too: a u1.jpg after a u1.png has the same u1.json
            String sidecar = exchange.getProperty(SIDECAR, String.class);
            known = image != null && (Files.exists(doneDir.resolve(image), LinkOption.NOFOLLOW_LINKS)
                    || sidecar != null && Files.exists(doneDir.resolve(sidecar), LinkOption.NOFOLLOW_LINKS));
            exchange.setProperty(ASIDE, known);
        }
        return known;
    }
}
