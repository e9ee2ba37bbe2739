package id.ktpbridge.s3;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;

/**
 * The S3 client bound while the S3 source (or target) is off. Camel starts the endpoint of a
 * route even when the route itself does not start, and the S3 endpoint probes its bucket when it
 * starts; this client answers that probe without any network call and refuses everything else,
 * saying which setting turns the feature on.
 */
final class OfflineS3Client {

    private OfflineS3Client() {
    }

    static S3Client create(String why) {
        InvocationHandler handler = (Object proxy, Method method, Object[] args) -> switch (method.getName()) {
            case "headBucket" -> HeadBucketResponse.builder().build();
            case "serviceName" -> S3Client.SERVICE_NAME;
            case "close" -> null;
            case "toString" -> "OfflineS3Client[" + why + "]";
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> throw new IllegalStateException(why);
        };
        return (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
                handler);
    }
}
