// The one-step pipeline of an exported mdx model, in onnxruntime-web (WebAssembly): tokenize -> text encoder ->
// one UNet call at the student's timestep from the starting noise -> x0 from the model output -> light decoder ->
// 8-bit RGBA. The same math as mdx's TextToImagePipeline with the UFOGen sampler at one step (docs/EXPORT.md).
import * as ort from '../node_modules/onnxruntime-web/dist/ort.wasm.min.mjs';
import { ClipTokenizer } from './tokenizer.js';
import { describeModel } from './model.js';

// the .wasm files sit beside the script; threads need a cross-origin isolated page (COOP/COEP headers)
ort.env.wasm.wasmPaths = new URL('../node_modules/onnxruntime-web/dist/', import.meta.url).href;
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 4) : 1;

export class OneStepPipeline {
  constructor(model, tokenizer, sessions) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.sessions = sessions;
  }

  /**
   * Loads model.json, the tokenizer files and the three graphs of an exported model folder URL. `threads` overrides
   * the WebAssembly thread count (it applies to the first load of the page only: onnxruntime-web starts once).
   */
  static async load(folderUrl, threads) {
    if (threads) ort.env.wasm.numThreads = threads;
    const base = new URL(folderUrl, location.href);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    const response = await fetch(new URL('model.json', base));
    if (!response.ok) {
      throw new Error(`${new URL('model.json', base)}: HTTP ${response.status}: not an exported mdx model folder`
        + ' (mdx export onnx MODEL OUT_DIR writes one)');
    }
    const model = describeModel(await response.json());
    const options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
    const open = (file) => ort.InferenceSession.create(new URL(file, base).href, options);
    const [tokenizer, textEncoder, unet, decoder] = await Promise.all([
      ClipTokenizer.load(new URL(model.tokenizerDir, base)), open(model.textEncoder.file), open(model.unet.file),
      open(model.decoder.file)]);
    const pipeline = new OneStepPipeline(model, tokenizer, { textEncoder, unet, decoder });
    pipeline.threads = ort.env.wasm.numThreads;
    return pipeline;
  }

  /** Number of float32 values of the starting noise: (1, C, h, w). */
  get noiseSize() {
    return this.model.latentShape.reduce((a, b) => a * b, 1);
  }

  /**
   * One image from `prompt` and standard-normal `noise` (Float32Array of noiseSize values, C order).
   * Returns {rgba: Uint8ClampedArray (H, W, 4), width, height, ms: {tokenize, textEncoder, unet, decoder, total}}.
   */
  async generate(prompt, noise) {
    if (noise.length !== this.noiseSize) {
      throw new Error(`the starting noise has ${noise.length} values; the model needs ${this.noiseSize}`);
    }
    const m = this.model;
    const ms = {};
    const t0 = performance.now();
    const ids = this.tokenizer.encode(prompt, m.textEncoder.sequenceLength).inputIds;
    const t1 = performance.now();
    ms.tokenize = t1 - t0;
    const idsTensor = m.textEncoder.idsType === 'int32'
      ? new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length])
      : new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
    const text = (await this.sessions.textEncoder.run({ [m.textEncoder.input]: idsTensor }))[m.textEncoder.output];
    const t2 = performance.now();
    ms.textEncoder = t2 - t1;

    // x_T = noise * init_noise_sigma, fed to the UNet unscaled (UFOGen's scale_model_input is the identity)
    const sample = Float32Array.from(noise, (v) => v * m.initNoiseSigma);
    const feeds = {
      [m.unet.sample]: new ort.Tensor('float32', sample, m.latentShape),
      [m.unet.timestep]: timestepTensor(m.unet.timestepType, m.timestep, m.unet.timestepShape),
      [m.unet.encoderHiddenStates]: text,
    };
    const output = (await this.sessions.unet.run(feeds))[m.unet.output].data;
    const t3 = performance.now();
    ms.unet = t3 - t2;

    // x0 from the prediction (alpha = sqrt(a_t), sigma = sqrt(1 - a_t), in float32 as mdx computes them), then the
    // VAE's latents: x0 / scaling_factor + shift_factor
    const alpha = Math.fround(Math.sqrt(m.alphaCumprod));
    const sigma = Math.fround(Math.sqrt(Math.fround(1 - m.alphaCumprod)));
    const latents = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      let x0;
      if (m.predictionType === 'epsilon') x0 = Math.fround(Math.fround(sample[i] - Math.fround(output[i] * sigma)) / alpha);
      else if (m.predictionType === 'v_prediction') x0 = Math.fround(Math.fround(sample[i] * alpha) - Math.fround(output[i] * sigma));
      else x0 = output[i];
      if (m.clipSample) x0 = Math.min(m.clipSampleRange, Math.max(-m.clipSampleRange, x0));
      latents[i] = Math.fround(Math.fround(x0 / m.scalingFactor) + m.shiftFactor);
    }
    const decoded = (await this.sessions.decoder.run({
      [m.decoder.input]: new ort.Tensor('float32', latents, m.latentShape) }))[m.decoder.output];
    const t4 = performance.now();
    ms.decoder = t4 - t3;
    ms.total = t4 - t0;
    const [, , height, width] = decoded.dims;
    return { rgba: toRgba(decoded.data, width, height), width, height, ms };
  }
}

function timestepTensor(type, t, shape) {
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), shape);
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.of(t), shape);
  return new ort.Tensor('float32', Float32Array.of(t), shape);
}

/** (1, 3, H, W) in [-1, 1] -> RGBA bytes: clamp(x / 2 + 0.5, 0, 1) * 255 rounded, as mdx's Images.toRgb. */
export function toRgba(chw, width, height) {
  const plane = width * height;
  const out = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const unit = Math.min(1, Math.max(0, Math.fround(Math.fround(chw[c * plane + p] / 2) + 0.5)));
      out[p * 4 + c] = Math.round(Math.fround(unit * 255));
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}
