package id.ktpbridge.s3;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Properties;

import id.ktpbridge.Settings;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

class S3ConnectionTest {

    @Test
    void anEndpointCarryingAUserAndPasswordIsRefusedWithoutQuotingIt() throws Exception {
        S3Connection connection = connection("http://ops:hunter2@minio.test:9000");

        String message = assertThrows(IllegalStateException.class, connection::validate).getMessage();

        assertTrue(message.contains("ktp.source.s3.endpoint"), message);
        assertTrue(message.contains("user or password"), message);
        assertFalse(message.contains("hunter2"), message);
    }

    @Test
    void aBaseUrlIsTaken() throws Exception {
        connection("http://minio.test:9000").validate();
    }

    private static S3Connection connection(String endpoint) throws Exception {
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            Properties p = new Properties();
            p.setProperty("ktp.source.s3.region", "ap-southeast-3");
            p.setProperty("ktp.source.s3.endpoint", endpoint);
            p.setProperty("ktp.source.s3.access-key", "access");
            p.setProperty("ktp.source.s3.secret-key", "secret");
            camel.getPropertiesComponent().setInitialProperties(p);
            return S3Connection.read(new Settings(camel), "ktp.source.s3");
        }
    }
}
