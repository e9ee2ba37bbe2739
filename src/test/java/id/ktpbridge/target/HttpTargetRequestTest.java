package id.ktpbridge.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

class HttpTargetRequestTest {

    @Test
    void configuredHeadersAndAuthorizationGoOnEveryRequest() throws Exception {
        HttpTargetRequest request = new HttpTargetRequest("X-Partner: acme; X-Env : test", "bearer", "t0ken", null, null);
        try (CamelContext context = new DefaultCamelContext()) {
            Exchange exchange = new DefaultExchange(context);
            exchange.getMessage().setHeader("CamelFileName", "leaks.json");
            request.prepare(exchange);
            assertEquals("acme", exchange.getMessage().getHeader("X-Partner"));
            assertEquals("test", exchange.getMessage().getHeader("X-Env"));
            assertEquals("Bearer t0ken", exchange.getMessage().getHeader("Authorization"));
            assertEquals(null, exchange.getMessage().getHeader("CamelFileName"), "no inner headers go out");
        }
    }

    @Test
    void aMalformedHeaderEntryIsNamedByPositionWithoutItsText() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new HttpTargetRequest("X-Partner: acme; X-Api-Key=s3cr3t-value", "none", null, null, null));
        assertTrue(e.getMessage().contains("entry 2 of 2"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
    }
}
