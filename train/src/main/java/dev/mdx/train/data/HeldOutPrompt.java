package dev.mdx.train.data;

/**
 * A prompt held out of training (a paraphrase no caption uses) with what it names: the data set's label and class
 * id, and for emoji the style it asks for (null when it asks for none).
 */
public record HeldOutPrompt(String prompt, String label, int classId, String style) {}
