// Seeded standard-normal noise, the same values as mdx's SeededNoiseSource (core/src/main/java/dev/mdx/tensor): Java's
// SplittableRandom (SplitMix64) from the seed gives doubles u in [0, 1) as (nextLong >>> 11) * 2^-53; each pair
// u1, u2 gives two normals by Box-Muller, r cos(2 pi u2) then r sin(2 pi u2), with r = sqrt(-2 ln(1 - u1)); each is
// rounded to float32. mdx computes these with StrictMath (fdlibm); V8's Math.log/sin/cos are fdlibm ports too, so a
// seed gives the same starting latents, and the same image, as `mdx generate -s SEED` (the parity test checks it).
// Noise can also come from outside as a raw float32 file (noiseFromBytes).

const MASK = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** java.util.SplittableRandom(seed).nextDouble(), as a function returning the next value. */
export function splittableRandom(seed) {
  let state = BigInt.asUintN(64, BigInt(seed));
  const mix64 = (z) => {
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  };
  return () => {
    state = (state + GOLDEN_GAMMA) & MASK;
    return Number(mix64(state) >> 11n) * 2 ** -53;
  };
}

/** Parses a seed as mdx does (a signed 64-bit integer); throws a clear error otherwise. */
export function parseSeed(text) {
  const trimmed = String(text).trim();
  if (!/^-?\d+$/.test(trimmed)) throw new RangeError(`the seed must be a whole number, got '${text}'`);
  const value = BigInt(trimmed);
  if (value !== BigInt.asIntN(64, value)) throw new RangeError(`the seed ${trimmed} does not fit in 64 bits`);
  return value;
}

/** `count` standard-normal float32 values from `seed` (a BigInt or integer), as mdx draws them. */
export function seededNormal(seed, count) {
  const next = splittableRandom(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = 1 - next();
    const u2 = next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
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
