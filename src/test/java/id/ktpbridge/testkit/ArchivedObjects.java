package id.ktpbridge.testkit;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Makes S3Proxy answer for archived objects as AWS S3 does. S3Proxy keeps the storage class an
 * object was put with but serves every object; AWS refuses to read or copy an object in the
 * {@code GLACIER} or {@code DEEP_ARCHIVE} class until it is restored (403, {@code InvalidObjectState}).
 *
 * <p>Every S3 client of the test JVM has it (the SDK loads it from
 * {@code software/amazon/awssdk/global/handlers/execution.interceptors} on the test class path);
 * objects in any other storage class pass untouched.
 */
public final class ArchivedObjects implements ExecutionInterceptor {

    private static final Set<String> ARCHIVED = Set.of("GLACIER", "DEEP_ARCHIVE");
    /** bucket/key of the archived objects a read was refused for: a copy of them is refused too. */
    private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();
    private static final ExecutionAttribute<Boolean> REFUSED = new ExecutionAttribute<>("KtpTestArchivedRefusal");
    private static final String REFUSAL = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
            + "<Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class"
            + "</Message><RequestId>test</RequestId></Error>";

    /** A copy is refused before it is sent: S3Proxy would make it otherwise. */
    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        if (context.request() instanceof CopyObjectRequest copy && SEEN.contains(source(copy))) {
            throw (S3Exception) S3Exception.builder().statusCode(403).message("The operation is not valid for the"
                    + " object's storage class").awsErrorDetails(AwsErrorDetails.builder()
                    .errorCode("InvalidObjectState").errorMessage("The operation is not valid for the object's storage"
                            + " class").serviceName("S3").build()).build();
        }
    }

    @Override
    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
        if (!refused(context)) {
            return context.httpResponse();
        }
        attributes.putAttribute(REFUSED, true);
        return context.httpResponse().toBuilder().statusCode(403).statusText("Forbidden")
                .removeHeader("x-amz-storage-class").removeHeader("Content-Length")
                .putHeader("Content-Type", "application/xml").build();
    }

    @Override
    public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                                                           ExecutionAttributes attributes) {
        if (Boolean.TRUE.equals(attributes.getAttribute(REFUSED))) {
            return Optional.of(new ByteArrayInputStream(REFUSAL.getBytes(StandardCharsets.UTF_8)));
        }
        return context.responseBody();
    }

    /** bucket/key of the copy's source: the SDK may have folded them into {@code CopySource} already. */
    private static String source(CopyObjectRequest copy) {
        if (copy.sourceBucket() != null) {
            return copy.sourceBucket() + "/" + copy.sourceKey();
        }
        String source = copy.copySource();
        int version = source.indexOf("?versionId=");
        return URLDecoder.decode(version < 0 ? source : source.substring(0, version), StandardCharsets.UTF_8);
    }

    private static boolean refused(Context.ModifyHttpResponse context) {
        if (context.request() instanceof GetObjectRequest get && context.httpResponse().isSuccessful()
                && context.httpResponse().firstMatchingHeader("x-amz-storage-class").filter(ARCHIVED::contains)
                .isPresent()) {
            SEEN.add(get.bucket() + "/" + get.key());
            return true;
        }
        return false;
    }
}
