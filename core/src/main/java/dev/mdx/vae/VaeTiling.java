package dev.mdx.vae;

/**
 * Whether a VAE decode runs on the whole latent or on overlapping tiles of at most {@code tileLatentSize} latent
 * pixels a side, as diffusers' {@code AutoencoderKL.enable_tiling()}: tiles overlap by a quarter of their size
 * ({@code tile_overlap_factor} 0.25) and are blended linearly across the overlap. Memory is then bounded by one
 * tile's decode instead of growing with the image; the price is a small seam where neighbouring tiles' GroupNorm
 * statistics (and the mid-block attention, which sees one tile) differ.
 *
 * @param tileLatentSize tile side in latent pixels (diffusers' {@code tile_latent_min_size}); 0 decodes whole
 */
public record VaeTiling(int tileLatentSize) {
    /** Decode the whole latent at once. */
    public static final VaeTiling NONE = new VaeTiling(0);

    /** diffusers' {@code tile_overlap_factor}: neighbouring tiles share this fraction of a tile. */
    public static final double OVERLAP_FACTOR = 0.25;

    /** The smallest tile with at least one latent pixel of overlap. */
    public static final int MIN_TILE = 4;

    public VaeTiling {
        if (tileLatentSize != 0 && tileLatentSize < MIN_TILE) {
            throw new IllegalArgumentException("VAE tile size must be 0 (no tiling) or at least " + MIN_TILE
                    + " latent pixels, got " + tileLatentSize);
        }
    }

    /** Tiles of {@code tileLatentSize} latent pixels a side. */
    public static VaeTiling latentTiles(int tileLatentSize) {
        return new VaeTiling(tileLatentSize);
    }

    /**
     * Tiles of {@code tilePixels} image pixels a side (diffusers' {@code tile_sample_min_size}, 512 for SD), for a
     * VAE that downsamples by {@code factor}.
     */
    public static VaeTiling pixelTiles(int tilePixels, int factor) {
        return new VaeTiling(Math.max(MIN_TILE, tilePixels / factor));
    }

    public boolean enabled() {
        return tileLatentSize > 0;
    }

    /** Latent pixels neighbouring tiles share. */
    public int overlap() {
        return (int) (tileLatentSize * OVERLAP_FACTOR);
    }

    /** Whether a latent of (h, w) is decoded in more than one tile. */
    public boolean splits(long h, long w) {
        return enabled() && (h > tileLatentSize || w > tileLatentSize);
    }

    /**
     * Tiles along a side of {@code n} latent pixels: tile k covers [k * stride, min(k * stride + tile, n)), stride =
     * tile - overlap, as many as cover n. Neighbours share exactly {@link #overlap()} pixels and the last tile is
     * longer than the overlap, so no pixel is in three tiles (diffusers' loop adds further tiles that lie inside
     * the last one; they change nothing but time). A side no longer than a tile is one tile.
     */
    public int tileCount(long n) {
        if (!enabled() || n <= tileLatentSize) {
            return 1;
        }
        long stride = tileLatentSize - overlap();
        return (int) Math.min(Integer.MAX_VALUE, 1 + ceilDiv(n - tileLatentSize, stride));
    }

    /** The start of tile k along a side (see {@link #tileCount}). */
    public long tileStart(int k) {
        return (long) k * (tileLatentSize - overlap());
    }

    /** The length of tile k along a side of n (see {@link #tileCount}). */
    public long tileLength(int k, long n) {
        return enabled() ? Math.min(tileLatentSize, n - tileStart(k)) : n;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    @Override
    public String toString() {
        return enabled() ? "tiles of " + tileLatentSize + " latent px, overlap " + overlap() : "whole latent";
    }
}
