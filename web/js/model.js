// Reads model.json, the runtime description `mdx export onnx` writes beside the graphs (docs/EXPORT.md), into what
// the one-step pipeline needs. Anything the page cannot run fails here with one message naming the field.

function need(value, field) {
  if (value === undefined || value === null) throw new Error(`model.json: '${field}' is missing`);
  return value;
}

/** The single input/output of a graph entry {file, inputs: {name: {dtype, shape}}, outputs: {...}}. */
function tensorNames(graph, field) {
  return { inputs: Object.keys(need(graph.inputs, field + '.inputs')),
    outputs: Object.keys(need(graph.outputs, field + '.outputs')) };
}

/** A UNet input the page feeds, by the name the export gives it. */
function input(graph, name) {
  need(graph.inputs[name], 'graphs.unet.inputs.' + name);
  return name;
}

export function describeModel(json) {
  if (json.format !== 'mdx-onnx') {
    throw new Error(`model.json: format '${json.format}' is not mdx-onnx (write it with mdx export onnx)`);
  }
  const graphs = need(json.graphs, 'graphs');
  const te = need(graphs.text_encoder, 'graphs.text_encoder');
  const unet = need(graphs.unet, 'graphs.unet');
  const vae = need(graphs.vae_decoder, 'graphs.vae_decoder');
  const sched = need(json.scheduler, 'scheduler');
  const teNames = tensorNames(te, 'graphs.text_encoder');
  const unetNames = tensorNames(unet, 'graphs.unet');
  const vaeNames = tensorNames(vae, 'graphs.vae_decoder');
  const steps = json.student ? json.student.steps : need(json.defaults, 'defaults').steps;
  if (steps !== 1) {
    throw new Error(`this page runs one-step models (a UFOGen student, e.g. models/emoji/students/ufogen);`
      + ` model.json says ${steps} steps`);
  }
  if (unet.inputs.guidance_scale) {
    throw new Error('this page does not feed a guidance embedding (guidance_scale input): export a student without one');
  }
  const timestep = json.student && json.student.one_step_timestep !== undefined
    ? json.student.one_step_timestep : need(json.defaults.timesteps, 'defaults.timesteps')[0];
  const config = sched.config || {};
  const latent = need(json.latent, 'latent');
  const idsInput = te.inputs[teNames.inputs[0]];
  return {
    tokenizerDir: need(json.tokenizer, 'tokenizer').vocab.replace(/[^/]*$/, ''),
    textEncoder: { file: te.file, input: teNames.inputs[0], output: teNames.outputs[0],
      idsType: idsInput.dtype, sequenceLength: Number(idsInput.shape[1]) || json.tokenizer.model_max_length },
    unet: { file: unet.file, sample: input(unet, 'sample'), timestep: input(unet, 'timestep'),
      encoderHiddenStates: input(unet, 'encoder_hidden_states'),
      output: unetNames.outputs[0], timestepType: unet.inputs.timestep.dtype, timestepShape: [1] },
    decoder: { file: vae.file, input: vaeNames.inputs[0], output: vaeNames.outputs[0] },
    latentShape: [1, latent.channels, latent.height, latent.width],
    imageSize: [need(json.image, 'image').height, json.image.width],
    timestep,
    // float32, as mdx holds it, so that sqrt(a) and sqrt(1 - a) round as mdx's do
    alphaCumprod: Math.fround(need(sched.alphas_cumprod, 'scheduler.alphas_cumprod')[timestep]),
    predictionType: need(sched.prediction_type, 'scheduler.prediction_type'),
    // UFOGen clips x0 unless the scheduler config says otherwise (mdx's UfoGenSampler: clip by default)
    clipSample: config.clip_sample !== undefined ? config.clip_sample : true,
    clipSampleRange: config.clip_sample_range !== undefined ? config.clip_sample_range : 1,
    initNoiseSigma: json.defaults && json.defaults.init_noise_sigma !== undefined ? json.defaults.init_noise_sigma : 1,
    scalingFactor: need(json.vae, 'vae').scaling_factor,
    shiftFactor: json.vae.shift_factor || 0,
  };
}
