package id.ktpbridge.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;

class OfflineS3ClientTest {

    private static final String WHY = "The S3 source is off (ktp.source.s3.enabled=false)";
    private final S3Client client = OfflineS3Client.create(WHY);

    @Test
    void theEndpointsBucketProbeIsAnsweredWithoutANetworkCall() {
        // both forms Camel's endpoint may use; no endpoint or credentials are configured at all
        assertNotNull(client.headBucket(b -> b.bucket("not-configured")));
        assertEquals("s3", client.serviceName());
        client.close();
    }

    @Test
    void whatTheSourceAndTargetWouldDoIsRefusedNamingTheSetting() {
        for (org.junit.jupiter.api.function.Executable call : new org.junit.jupiter.api.function.Executable[] {
            () -> client.listObjects(b -> b.bucket("b")),
            () -> client.listObjectsV2(b -> b.bucket("b")),
            () -> client.getObject(b -> b.bucket("b").key("k"), ResponseTransformer.toBytes()),
            () -> client.getObject(b -> b.bucket("b").key("k")),
            () -> client.headObject(b -> b.bucket("b").key("k")),
            () -> client.putObject(b -> b.bucket("b").key("k"), RequestBody.fromString("{}")),
            () -> client.copyObject(b -> b.sourceBucket("b").sourceKey("k").destinationBucket("d").destinationKey("k")),
            () -> client.deleteObject(b -> b.bucket("b").key("k"))}) {
            assertEquals(WHY, assertThrows(IllegalStateException.class, call).getMessage());
        }
    }
}
