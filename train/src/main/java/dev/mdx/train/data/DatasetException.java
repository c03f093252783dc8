package dev.mdx.train.data;

/** A data source or cached data set that cannot be used as it is; the message is written for the person running the build. */
public class DatasetException extends dev.mdx.MdxException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
