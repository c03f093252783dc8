// Seeded standard-normal noise for the page's own use. mdx draws its starting noise from libtorch's generator, which
// JavaScript cannot reproduce, so a seed here gives a different image than `mdx generate -s SEED` (but the same image
// in every browser on every machine). For an image mdx can reproduce, give the page mdx's noise instead (noise.bin:
// raw little-endian float32, see docs/EXPORT.md).
//
// Generator: the seed (an integer 0 .. 2^32 - 1) expanded by SplitMix32 into the four 32-bit words of xoshiro128**
// (Blackman and Vigna); each pair of draws gives uniforms u1 = (a + 1) / 2^32 in (0, 1] and u2 = b / 2^32 in [0, 1),
// and the Box-Muller transform turns them into two normals, r cos(2 pi u2) and r sin(2 pi u2) with
// r = sqrt(-2 ln u1), used in that order.

function splitMix32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128**: returns the next unsigned 32-bit integer. */
export function xoshiro128(seed) {
  const init = splitMix32(seed);
  const s = Uint32Array.of(init(), init(), init(), init());
  const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
}

/** `count` standard-normal float32 values from `seed`. */
export function seededNormal(seed, count) {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`the seed must be an integer from 0 to 4294967295, got ${seed}`);
  }
  const next = xoshiro128(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = (next() + 1) / 4294967296;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Noise from a raw little-endian float32 file of exactly `count` values (e.g. written by the parity test). */
export function noiseFromBytes(buffer, count, name) {
  if (buffer.byteLength !== count * 4) {
    throw new Error(`${name} holds ${buffer.byteLength} bytes; the model's starting latents need ${count} float32 values`
      + ` (${count * 4} bytes)`);
  }
  const view = new DataView(buffer);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
