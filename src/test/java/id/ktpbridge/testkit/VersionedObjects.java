package id.ktpbridge.testkit;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * A versioned bucket as far as a client can tell, which S3Proxy does not keep. In a bucket whose
 * name holds {@code -versioned}: every {@code PutObject} makes a new version of its key, with an id
 * of its own ({@code x-amz-version-id} on the put's answer and on later {@code GetObject} and
 * {@code HeadObject} answers, as AWS gives it); every {@code DeleteObject} is recorded with the
 * version id it names ({@link #deletes}); and a delete that names a version which is no longer the
 * key's current one leaves the current one alone, as AWS does (S3Proxy, which keeps one object
 * per key, is asked to delete a key that does not exist instead). A delete without a version id
 * goes through: S3Proxy deletes the object, where AWS would hide it behind a delete marker.
 *
 * <p>{@link #onHead} runs a step when the key is next looked at ({@code HeadObject}), once: what
 * a partner could do between a check of the key and the delete that follows it.
 * Loaded for every S3 client of the test JVM, as {@link FaultyObjects} is; other buckets pass untouched.
 */
public final class VersionedObjects implements ExecutionInterceptor {

    private static final String VERSION_HEADER = "x-amz-version-id";
    private static final AtomicInteger NEXT = new AtomicInteger();
    /** bucket/key -> the id of its current version. */
    private static final Map<String, String> CURRENT = new ConcurrentHashMap<>();
    private static final List<String> DELETES = new CopyOnWriteArrayList<>();
    private static final Map<String, Runnable> ON_HEAD = new ConcurrentHashMap<>();

    /** The current version id of the key, or null. */
    public static String current(String bucket, String key) {
        return CURRENT.get(bucket + "/" + key);
    }

    /** The deletes sent to {@code bucket}, in order: {@code <key>#<version id, or null>}. */
    public static List<String> deletes(String bucket) {
        return DELETES.stream().filter(d -> d.startsWith(bucket + "/")).map(d -> d.substring(bucket.length() + 1))
                .toList();
    }

    /** Runs {@code step} once, after the next {@code HeadObject} of the key is answered. */
    public static void onHead(String bucket, String key, Runnable step) {
        ON_HEAD.put(bucket + "/" + key, step);
    }

    private static boolean versioned(String bucket) {
        return bucket != null && bucket.contains("-versioned");
    }

    @Override
    public SdkHttpRequest modifyHttpRequest(Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
        if (!(context.request() instanceof DeleteObjectRequest delete) || !versioned(delete.bucket())) {
            return context.httpRequest();
        }
        String object = delete.bucket() + "/" + delete.key();
        DELETES.add(object + "#" + delete.versionId());
        if (delete.versionId() == null) {
            CURRENT.remove(object);
            return context.httpRequest();
        }
        SdkHttpRequest.Builder request = context.httpRequest().toBuilder().removeQueryParameter("versionId");
        if (delete.versionId().equals(CURRENT.get(object))) {
            CURRENT.remove(object);
            return request.build();
        }
        // a noncurrent version: the current object stays (S3Proxy deletes a key that is not there, 204)
        return request.encodedPath(context.httpRequest().encodedPath() + "-noncurrent-" + delete.versionId()).build();
    }

    @Override
    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
        if (!context.httpResponse().isSuccessful()) {
            return context.httpResponse();
        }
        if (context.request() instanceof PutObjectRequest put && versioned(put.bucket())) {
            String version = "v" + NEXT.incrementAndGet();
            CURRENT.put(put.bucket() + "/" + put.key(), version);
            return context.httpResponse().toBuilder().putHeader(VERSION_HEADER, version).build();
        }
        String object = context.request() instanceof GetObjectRequest get && versioned(get.bucket())
                ? get.bucket() + "/" + get.key()
                : context.request() instanceof HeadObjectRequest head && versioned(head.bucket())
                        ? head.bucket() + "/" + head.key() : null;
        String version = object == null ? null : CURRENT.get(object);
        if (version == null) {
            return context.httpResponse();
        }
        SdkHttpResponse answer = context.httpResponse().toBuilder().putHeader(VERSION_HEADER, version).build();
        if (context.request() instanceof HeadObjectRequest) {
            Runnable step = ON_HEAD.remove(object);
            if (step != null) {
                step.run();
            }
        }
        return answer;
    }
}
