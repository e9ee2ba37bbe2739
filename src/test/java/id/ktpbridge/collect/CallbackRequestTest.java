package id.ktpbridge.collect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Set;

import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.junit.jupiter.api.Test;

/**
 * What the callback route reads of a message another server than the bundle's made (the bundle's
 * own is read from its Vert.x request: {@code ForwardedCallerTest}).
 */
class CallbackRequestTest {

    @Test
    void anotherServersMessageIsReadByTheHeadersItHadWhenTheRouteTookIt() throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            DefaultMessage message = new DefaultMessage(context);
            message.setHeader("Authorization", "Bearer a");
            message.setHeader("X-Forwarded-For", List.of("10.1.1.1", "192.0.2.7"));
            message.setHeader("X-Api-Key", "from the query");
            CallbackRequest request = new CallbackRequest(message, Set.of("x-api-key"));
            message.removeHeaders("*");
            assertEquals("Bearer a", request.header("authorization"));
            assertEquals(List.of("10.1.1.1", "192.0.2.7"), request.lines("X-Forwarded-For"));
            assertEquals("10.1.1.1, 192.0.2.7", request.header("X-Forwarded-For"));
            assertNull(request.header("X-API-Key"), "a name the query string names is not read");
            assertNull(request.remoteAddress());
        }
    }
}
