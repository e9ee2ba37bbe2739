package id.ktpbridge.s3;

import java.util.List;

import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.ListObjectsResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Names where a cut-off object listing goes on when the store does not. AWS S3 sends
 * {@code NextMarker} only for listings with a delimiter, and says to resume from the last key
 * otherwise. Camel's S3 consumer resumes from {@code NextMarker}, falling back to the last key only
 * when no prefix is set; the S3 source lists with a prefix and without a delimiter, so on AWS each
 * listing would start again from the first key, and images sorting after {@code batch-size}
 * objects that stay in place (non-image names, failed moves) would never be reached. This fills
 * in the last key of the page, as AWS documents.
 */
final class ListingResumePoint implements ExecutionInterceptor {

    @Override
    public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes executionAttributes) {
        if (context.response() instanceof ListObjectsResponse page
                && Boolean.TRUE.equals(page.isTruncated()) && page.nextMarker() == null && page.hasContents()) {
            List<S3Object> contents = page.contents();
            if (!contents.isEmpty()) {
                return page.toBuilder().nextMarker(contents.get(contents.size() - 1).key()).build();
            }
        }
        return context.response();
    }
}
