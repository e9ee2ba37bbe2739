package id.ktpbridge.ingest;

import id.ktpbridge.ledger.LedgerIdempotentRepository;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileEndpoint;
import org.apache.camel.component.file.GenericFileHelper;
import org.apache.camel.spi.IdempotentRepository;

/**
 * The idempotent claim a folder consumer (SFTP) holds on the file of an exchange, keyed as Camel
 * keys it: server, path, size and modification time.
 */
public final class SourceClaims {

    /**
     * Camel bean method, once the input is submitted (or found submitted before): the claim Camel
     * confirms next, just before it moves the file, names the input's ledger row. A process killed
     * between the two leaves the file in its folder under that confirmed claim; the row, which its
     * source has not let go of, has a later listing take the file again to move it (see
     * {@link LedgerIdempotentRepository#add}).
     */
    public void nameInput(Exchange exchange) {
        String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (ledgerId != null && repository(exchange) instanceof LedgerIdempotentRepository claims) {
            String key = key(exchange);
            if (key != null) {
                claims.settles(key, ledgerId);
            }
        }
    }

    /** The consumer's idempotent repository, or null when it claims nothing. */
    static IdempotentRepository repository(Exchange exchange) {
        return exchange.getFromEndpoint() instanceof GenericFileEndpoint<?> endpoint && endpoint.isIdempotent()
                ? endpoint.getIdempotentRepository() : null;
    }

    /** The key of the exchange's file in the consumer's idempotent repository, or null without one. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    static String key(Exchange exchange) {
        if (!(exchange.getFromEndpoint() instanceof GenericFileEndpoint endpoint) || repository(exchange) == null) {
            return null;
        }
        GenericFile file = exchange.getProperty(ExchangePropertyKey.FILE_EXCHANGE_FILE, GenericFile.class);
        if (file == null) {
            return null;
        }
        if (endpoint.getIdempotentKey() == null) {
            return file.getAbsoluteFilePath();
        }
        return endpoint.getIdempotentKey().evaluate(GenericFileHelper.createDummy(endpoint, exchange, () -> file),
                String.class);
    }
}
