package dev.mdx.pipeline;

/** Pixels added on each side of an image: the new border an outpainting run paints. */
public record Padding(int left, int top, int right, int bottom) {
    public Padding {
        if (left < 0 || top < 0 || right < 0 || bottom < 0) {
            throw new InvalidRequestException("outpaint", "needs four sizes >= 0 (left, top, right, bottom), got "
                    + left + "," + top + "," + right + "," + bottom);
        }
        if (left + top + right + bottom == 0) {
            throw new InvalidRequestException("outpaint", "adds nothing: give at least one side a size above 0");
        }
    }

    /** "L,T,R,B" as the CLI takes it. */
    public static Padding parse(String text) {
        String[] parts = text.split(",", -1);
        if (parts.length != 4) {
            throw new InvalidRequestException("outpaint", "needs LEFT,TOP,RIGHT,BOTTOM in pixels, got '" + text + "'");
        }
        int[] v = new int[4];
        for (int i = 0; i < 4; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new InvalidRequestException("outpaint", "needs whole numbers of pixels, got '" + text + "'");
            }
        }
        return new Padding(v[0], v[1], v[2], v[3]);
    }
}
