package dev.mdx.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.mdx.tensor.Scopes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * diffusers' {@code AutoencoderKL.tiled_decode}: decode overlapping latent tiles one at a time and blend neighbours
 * linearly across their overlap ({@code blend_v}, {@code blend_h}: the earlier tile's weight falls from 1 to 0 while
 * the later one's rises, so at a corner the four weights are bilinear and sum to 1). Tiles follow
 * {@link VaeTiling#tileCount}: diffusers' layout without its redundant trailing tiles.
 */
final class VaeTiledDecode {
    private static final int H = 2;
    private static final int W = 3;

    private VaeTiledDecode() {}

    /**
     * (B, C, h, w) -> (B, out_channels, h * f, w * f) in the latent's manager.
     *
     * @param factor image pixels per latent pixel
     * @param decodeTile the decoder, applied to each (B, C, th, tw) tile
     */
    static NDArray decode(NDArray latent, VaeTiling tiling, int factor, UnaryOperator<NDArray> decodeTile) {
        Shape s = latent.getShape();
        long h = s.get(H);
        long w = s.get(W);
        long blend = (long) tiling.overlap() * factor;
        List<NDArray> strips = new ArrayList<>();
        for (int i = 0; i < tiling.tileCount(h); i++) {
            long y = tiling.tileStart(i);
            long th = tiling.tileLength(i, h);
            List<NDArray> tiles = new ArrayList<>();
            for (int j = 0; j < tiling.tileCount(w); j++) {
                long x = tiling.tileStart(j);
                NDIndex tile = new NDIndex(":, :, {}:{}, {}:{}", y, y + th, x, x + tiling.tileLength(j, w));
                // one tile's activations are freed before the next tile starts
                tiles.add(Scopes.run(() -> decodeTile.apply(latent.get(tile)), latent));
            }
            strips.add(blendAll(tiles, W, blend));
        }
        return blendAll(strips, H, blend);
    }

    /**
     * Joins consecutive pieces along {@code axis} where each overlaps the next by {@code blend} pixels, and frees
     * the pieces. One piece is returned as it is.
     */
    private static NDArray blendAll(List<NDArray> pieces, int axis, long blend) {
        if (pieces.size() == 1) {
            return pieces.get(0);
        }
        NDArray joined = Scopes.run(() -> join(pieces, axis, blend), pieces.toArray(new NDArray[0]));
        pieces.forEach(NDArray::close);
        return joined;
    }

    private static NDArray join(List<NDArray> pieces, int axis, long blend) {
        NDList segments = new NDList();
        int last = pieces.size() - 1;
        for (int k = 0; k <= last; k++) {
            NDArray cur = pieces.get(k);
            long length = cur.getShape().get(axis);
            if (k > 0) {
                NDArray prev = pieces.get(k - 1);
                long prevLength = prev.getShape().get(axis);
                NDArray[] ramps = ramps(cur, axis, blend);
                // prev's last `blend` pixels and cur's first cover the same image rows (or columns)
                segments.add(slice(prev, axis, prevLength - blend, prevLength).mul(ramps[0])
                        .add(slice(cur, axis, 0, blend).mul(ramps[1])));
            }
            segments.add(slice(cur, axis, k == 0 ? 0 : blend, k == last ? length : length - blend));
        }
        return NDArrays.concat(segments, axis);
    }

    /**
     * The weights of the earlier and the later piece at offset t of the overlap, 1 - t / blend and t / blend as
     * diffusers computes them (in double, then as float32 factors), shaped to broadcast along {@code axis}.
     */
    private static NDArray[] ramps(NDArray like, int axis, long blend) {
        float[] earlier = new float[(int) blend];
        float[] later = new float[(int) blend];
        for (int t = 0; t < blend; t++) {
            earlier[t] = (float) (1 - (double) t / blend);
            later[t] = (float) ((double) t / blend);
        }
        long[] shape = {1, 1, 1, 1};
        shape[axis] = blend;
        return new NDArray[] {like.getManager().create(earlier, new Shape(shape)),
                like.getManager().create(later, new Shape(shape))};
    }

    private static NDArray slice(NDArray x, int axis, long from, long to) {
        return x.get(axis == H ? new NDIndex(":, :, {}:{}", from, to) : new NDIndex(":, :, :, {}:{}", from, to));
    }
}
