package id.ktpbridge.s3;

import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.CopyObjectResponse;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;

/**
 * The S3 client bound while the S3 source (or target) is off. Camel starts the endpoint of a
 * route even when the route itself does not start, and the S3 endpoint probes its bucket when it
 * starts; this client answers that probe without any network call. The calls the bundle and
 * Camel's S3 endpoints make are refused saying which setting turns the feature on; any other
 * call is refused by the SDK's own default. A class, not a dynamic proxy: a proxy of the SDK's
 * interface loads every type its few hundred methods name, a third of a second at each start.
 */
final class OfflineS3Client implements S3Client {

    private final String why;

    private OfflineS3Client(String why) {
        this.why = why;
    }

    static S3Client create(String why) {
        return new OfflineS3Client(why);
    }

    private IllegalStateException off() {
        return new IllegalStateException(why);
    }

    @Override
    public HeadBucketResponse headBucket(HeadBucketRequest request) {
        return HeadBucketResponse.builder().build();
    }

    @Override
    public ListObjectsResponse listObjects(ListObjectsRequest request) {
        throw off();
    }

    @Override
    public ListObjectsV2Response listObjectsV2(ListObjectsV2Request request) {
        throw off();
    }

    @Override
    public <T> T getObject(GetObjectRequest request, ResponseTransformer<GetObjectResponse, T> transformer) {
        throw off();
    }

    @Override
    public ResponseInputStream<GetObjectResponse> getObject(GetObjectRequest request) {
        throw off();
    }

    @Override
    public HeadObjectResponse headObject(HeadObjectRequest request) {
        throw off();
    }

    @Override
    public PutObjectResponse putObject(PutObjectRequest request, RequestBody body) {
        throw off();
    }

    @Override
    public CopyObjectResponse copyObject(CopyObjectRequest request) {
        throw off();
    }

    @Override
    public DeleteObjectResponse deleteObject(DeleteObjectRequest request) {
        throw off();
    }

    @Override
    public String serviceName() {
        return SERVICE_NAME;
    }

    @Override
    public void close() {
        // nothing was opened
    }

    @Override
    public String toString() {
        return "OfflineS3Client[" + why + "]";
    }
}
