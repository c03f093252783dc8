package dev.mdx.pipeline;

import dev.mdx.MdxException;

/** A generation request that cannot run as given; {@link #field()} names the request field at fault. */
public final class InvalidRequestException extends MdxException {
    private final String field;
    private final String problem;

    public InvalidRequestException(String field, String problem) {
        super(field + " " + problem);
        this.field = field;
        this.problem = problem;
    }

    /** The request field, as named in {@link GenerationRequest} ("width", "steps", "cfgScale", ...). */
    public String field() {
        return field;
    }

    /** The message without the field name, for callers that name the field their own way (a CLI flag). */
    public String problem() {
        return problem;
    }
}
