// The page: loads the exported model named by ?model= (default model/; ?threads=N sets the WebAssembly threads), then
// generates one image per click from the prompt and either the seed (mdx's own noise generator, in noise.js) or
// noise from ?noise=URL or the file picker.
import { noiseFromBytes, parseSeed, seededNormal } from './noise.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const modelUrl = params.get('model') || 'model/';
let pipeline = null;
let suppliedNoise = null; // {values: Float32Array, name}

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

async function fetchNoise(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return { values: noiseFromBytes(await r.arrayBuffer(), pipeline.noiseSize, url), name: url };
}

/** pipeline.js, which imports onnxruntime-web: a missing npm install is one message, not a silent console error. */
async function pipelineModule() {
  try {
    return await import('./pipeline.js');
  } catch (err) {
    throw new Error('onnxruntime-web did not load: run `npm ci` in the web/ folder'
      + ` (${err.message})`);
  }
}

async function start() {
  $('model-url').textContent = new URL(modelUrl, location.href).href;
  const began = performance.now();
  const { OneStepPipeline } = await pipelineModule();
  pipeline = await OneStepPipeline.load(modelUrl, Number(params.get('threads')) || undefined);
  if (params.has('noise')) suppliedNoise = await fetchNoise(params.get('noise'));
  if (params.has('prompt')) $('prompt').value = params.get('prompt');
  if (params.has('seed')) $('seed').value = params.get('seed');
  const m = pipeline.model;
  status(`Ready: ${m.imageSize[1]}x${m.imageSize[0]} images, one UNet call at t = ${m.timestep}`
    + ` (model loaded in ${Math.round(performance.now() - began)} ms; WebAssembly, ${pipeline.threads}`
    + ` thread${pipeline.threads === 1 ? '' : 's'})`
    + (suppliedNoise ? `; noise from ${suppliedNoise.name}` : ''));
  $('generate').disabled = false;
}

$('noise-file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  try {
    suppliedNoise = file ? { values: noiseFromBytes(await file.arrayBuffer(), pipeline.noiseSize, file.name),
      name: file.name } : null;
    status(suppliedNoise ? `Noise from ${file.name}` : 'Noise from the seed');
  } catch (err) {
    suppliedNoise = null;
    status(err.message, true);
  }
});

$('form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!pipeline) return;
  $('generate').disabled = true;
  try {
    const prompt = $('prompt').value;
    const seed = suppliedNoise ? null : parseSeed($('seed').value);
    const noise = suppliedNoise ? suppliedNoise.values : seededNormal(seed, pipeline.noiseSize);
    const encoded = pipeline.tokenizer.encode(prompt, pipeline.model.textEncoder.sequenceLength);
    $('tokens').textContent = `${encoded.untruncatedLength - 2} tokens`
      + (encoded.truncated ? ` (cut to ${pipeline.model.textEncoder.sequenceLength - 2}: the rest is ignored)` : '');
    status('Generating…');
    const result = await pipeline.generate(prompt, noise);
    const canvas = $('image');
    canvas.width = result.width;
    canvas.height = result.height;
    canvas.getContext('2d').putImageData(new ImageData(result.rgba, result.width, result.height), 0, 0);
    canvas.dataset.count = String(Number(canvas.dataset.count) + 1);
    const ms = result.ms;
    window.lastTimings = ms; // read by the timing command (BrowserTiming)
    canvas.dataset.ms = ms.total.toFixed(1);
    $('timing').textContent = `${Math.round(ms.total)} ms per image (text encoder ${Math.round(ms.textEncoder)} ms,`
      + ` UNet ${Math.round(ms.unet)} ms, decoder ${Math.round(ms.decoder)} ms)`;
    status(`Done: ${suppliedNoise ? 'noise from ' + suppliedNoise.name : 'seed ' + seed}`);
  } catch (err) {
    status(err.message, true);
  } finally {
    $('generate').disabled = false;
  }
});

start().catch((err) => status(`Cannot load the model: ${err.message}`, true));
