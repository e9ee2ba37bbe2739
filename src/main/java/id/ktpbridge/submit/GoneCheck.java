package id.ktpbridge.submit;

import java.util.List;
import java.util.Set;

/**
 * Asks a remote source (the SFTP server, the S3 bucket) whether the files or objects of inputs left
 * waiting are still there, for {@link ReplacedInputs#sweep} to end those that are definitely gone.
 * Only a definite answer counts: a check that fails (the server down, a login or request refused)
 * says nothing, and its inputs stay open until a later sweep can tell.
 */
public interface GoneCheck {

    /** The {@code source_type} of the inputs it answers for ({@code sftp}, {@code s3}). */
    String sourceType();

    /** The message of an input ended for it: what left where ("its file left the SFTP folder before its upload"). */
    String goneMessage();

    /** Where its files or objects are taken from, for a log line: "the SFTP folder". */
    String place();

    /**
     * Asks about {@code sourceRefs} (as the source's ingest route writes them), in one session or
     * client for all of them, in their order. Never throws: what cannot be told is left out of the
     * answer's {@code gone}, and a look that broke off leaves the rest out of its {@code answered}.
     */
    Answer look(List<String> sourceRefs);

    /**
     * What a look found: the refs the source answered for (there, gone, or refused: asking again
     * soon tells nothing new), and of them those it says are not there.
     */
    record Answer(Set<String> answered, Set<String> gone) {
    }
}
