// The mdx page: one form, a live view of the running request (server-sent events over the POST) and a gallery.
// Plain JavaScript served from the jar; it talks to the same API as any other client.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "mdx.apiKey";
const GALLERY_STORAGE = "mdx.gallery";
const FORM_STORAGE = "mdx.form";
const GALLERY_LIMIT = 48;

let models = [];
let running = null; // the AbortController of the request in flight
let planTimer = null;

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = localStorage.getItem(KEY_STORAGE);
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: headers(),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    askForKey();
  }
  const json = await response.json();
  if (!response.ok) throw new Error(json.error ? json.error.message : response.statusText);
  return json;
}

function askForKey() {
  $("key-button").hidden = false;
  if (!$("key-dialog").open) $("key-dialog").showModal();
}

// ---- form ----

function currentModel() {
  return models.find((m) => m.name === $("model").value) || models[0];
}

function request() {
  const number = (id) => ($(id).value === "" ? undefined : Number($(id).value));
  const body = {
    prompt: $("prompt").value,
    negative_prompt: $("negative").value,
    model: $("model").value || undefined,
    n: number("count") || 1,
    steps: number("steps"),
    cfg_scale: number("cfg"),
    sampler: $("sampler").value || undefined,
    use_student: !$("no-student").checked,
  };
  const seed = number("seed");
  if (seed !== undefined && seed >= 0) body.seed = seed;
  const w = number("width");
  const h = number("height");
  if (w && h) body.size = w + "x" + h;
  return body;
}

function saveForm() {
  const form = {};
  for (const id of ["prompt", "negative", "model", "count", "steps", "seed", "cfg", "sampler", "width", "height"]) {
    form[id] = $(id).value;
  }
  form.noStudent = $("no-student").checked;
  localStorage.setItem(FORM_STORAGE, JSON.stringify(form));
}

function restoreForm() {
  try {
    const form = JSON.parse(localStorage.getItem(FORM_STORAGE) || "{}");
    for (const [id, value] of Object.entries(form)) {
      if (id === "noStudent") $("no-student").checked = value;
      else if ($(id) && value !== undefined) $(id).value = value;
    }
  } catch (e) {
    localStorage.removeItem(FORM_STORAGE);
  }
}

function fillModels(data) {
  models = data.models;
  const select = $("model");
  const previous = select.value;
  select.innerHTML = "";
  for (const m of models) select.add(new Option(m.name, m.name));
  select.value = models.some((m) => m.name === previous) ? previous : data.default;
  const sampler = $("sampler");
  const chosen = sampler.value;
  sampler.length = 1; // keeps "model's own"
  for (const s of data.samplers) sampler.add(new Option(s.label, s.name));
  sampler.value = chosen;
  $("count").max = data.limits.max_images;
  $("steps").max = data.limits.max_steps;
  modelChanged(false);
}

// Step presets: the students the model ships (1, 8) and the usual base-model counts.
function modelChanged(resetSteps) {
  const m = currentModel();
  if (!m) return;
  $("width").placeholder = m.defaults.width;
  $("height").placeholder = m.defaults.height;
  if (resetSteps || $("steps").value === "") {
    $("steps").value = m.students.length ? Math.min(...m.students.map((s) => s.steps)) : m.defaults.steps;
  }
  const presets = $("step-presets");
  presets.innerHTML = "";
  const counts = new Map();
  for (const s of m.students) counts.set(s.steps, s.ufogen ? "UFOGen" : "distilled");
  for (const n of [20, m.defaults.steps]) if (!counts.has(n)) counts.set(n, "base");
  for (const [n, label] of [...counts.entries()].sort((a, b) => a[0] - b[0])) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.steps = n;
    b.innerHTML = n + "<small>" + label + "</small>";
    b.addEventListener("click", () => {
      $("steps").value = n;
      formChanged();
    });
    presets.append(b);
  }
  formChanged();
}

function formChanged() {
  for (const b of $("step-presets").children) b.classList.toggle("on", b.dataset.steps === $("steps").value);
  saveForm();
  clearTimeout(planTimer);
  planTimer = setTimeout(showPlan, 250);
}

// What the request would run as: the student it picks, the resolved values, warnings.
async function showPlan() {
  try {
    const plan = await api("/mdx/v1/plan", request());
    const p = plan.parameters;
    const who = plan.student ? plan.student : "the base model";
    $("plan-note").textContent = p.steps + " step" + (p.steps === 1 ? "" : "s") + " → " + who + " · "
      + p.width + "×" + p.height + " · " + p.sampler_name + " · CFG " + p.cfg_scale;
    $("warnings").textContent = plan.warnings.join(" ");
  } catch (e) {
    $("plan-note").textContent = "";
    $("warnings").textContent = e.message;
  }
}

// ---- generation ----

async function generate(event) {
  if (event) event.preventDefault();
  if (running) return;
  const body = request();
  body.stream = true;
  showError(null);
  running = new AbortController();
  $("generate").disabled = true;
  $("cancel").hidden = false;
  $("now").hidden = false;
  $("preview").removeAttribute("src");
  $("progress").value = 0;
  $("now-title").textContent = "Sending…";
  $("now-detail").textContent = "";
  const started = performance.now();
  pollHealth();
  try {
    const response = await fetch("/v1/images/generations", {
      method: "POST", headers: headers(), body: JSON.stringify(body), signal: running.signal,
    });
    if (!response.ok) {
      if (response.status === 401) askForKey();
      const json = await response.json();
      throw new Error(json.error ? json.error.message : response.statusText);
    }
    await readEvents(response, (name, data) => onEvent(name, data, body, started));
  } catch (e) {
    if (e.name === "AbortError") {
      $("now-title").textContent = "Cancelled";
    } else {
      showError(e.message);
      $("now").hidden = true;
    }
  } finally {
    pollHealth();
    running = null;
    $("generate").disabled = false;
    $("cancel").hidden = true;
  }
}

// Server-sent events from a fetch body: blocks separated by a blank line, "event:" and "data:" lines.
async function readEvents(response, handle) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) handle(name, JSON.parse(data));
    }
  }
}

function onEvent(name, data, body, started) {
  if (name === "mdx.queued") {
    $("now-title").textContent = data.ahead > 0 ? "Waiting: " + data.ahead + " ahead" : "Starting…";
  } else if (name === "mdx.progress") {
    const total = data.images * data.steps;
    const done = data.image_index * data.steps + data.step;
    $("progress").value = done / total;
    $("now-title").textContent = "Step " + data.step + "/" + data.steps
      + (data.images > 1 ? " · image " + (data.image_index + 1) + "/" + data.images : "");
    if (data.preview_b64) $("preview").src = "data:image/png;base64," + data.preview_b64;
  } else if (name === "image_generation.completed") {
    const src = "data:image/png;base64," + data.b64_json;
    $("preview").src = src;
    addCard({ src, seed: data.seed, infotext: data.infotext, prompt: body.prompt, ms: performance.now() - started });
  } else if (name === "mdx.done") {
    $("progress").value = 1;
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    $("now-title").textContent = "Done in " + seconds + " s";
    $("now-detail").textContent = data.notes.concat(data.warnings).join(" · ");
  } else if (name === "error") {
    throw new Error(data.error.message);
  }
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

// ---- gallery ----

function loadGallery() {
  try {
    return JSON.parse(localStorage.getItem(GALLERY_STORAGE) || "[]");
  } catch (e) {
    return [];
  }
}

function storeGallery(items) {
  // large images can fill the browser's storage: keep as many of the newest as fit
  for (let n = items.length; n > 0; n = Math.floor(n / 2)) {
    try {
      localStorage.setItem(GALLERY_STORAGE, JSON.stringify(items.slice(0, n)));
      return;
    } catch (e) {
      // try fewer
    }
  }
  localStorage.removeItem(GALLERY_STORAGE);
}

function addCard(item) {
  const items = loadGallery();
  items.unshift(item);
  storeGallery(items.slice(0, GALLERY_LIMIT));
  $("gallery").prepend(card(item));
  $("empty").hidden = true;
}

function settingsLine(infotext) {
  const lines = infotext.split("\n");
  return lines[lines.length - 1];
}

function card(item) {
  const div = document.createElement("div");
  div.className = "card";
  const img = document.createElement("img");
  img.src = item.src;
  img.alt = item.prompt;
  const caption = document.createElement("div");
  caption.className = "caption";
  caption.textContent = item.prompt || "(no prompt)";
  caption.title = item.prompt;
  const meta = document.createElement("div");
  meta.className = "meta";
  const settings = settingsLine(item.infotext);
  const steps = /Steps: (\d+)/.exec(settings);
  const model = /Model: ([^,]+)/.exec(settings);
  meta.textContent = "seed " + item.seed + (steps ? " · " + steps[1] + (steps[1] === "1" ? " step" : " steps") : "")
    + (model ? " · " + model[1] : "") + (item.ms ? " · " + (item.ms / 1000).toFixed(2) + " s" : "");
  const actions = document.createElement("div");
  actions.className = "card-actions";
  const download = document.createElement("a");
  download.className = "download";
  download.href = item.src;
  download.download = "mdx-" + item.seed + ".png";
  download.textContent = "Download";
  const reuse = document.createElement("button");
  reuse.type = "button";
  reuse.textContent = "Use seed";
  reuse.addEventListener("click", () => {
    $("seed").value = item.seed;
    formChanged();
  });
  const copy = document.createElement("button");
  copy.type = "button";
  copy.textContent = "Copy";
  copy.title = "copy the parameters (A1111 text)";
  copy.addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(item.infotext));
  actions.append(download, reuse, copy);
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Parameters";
  const pre = document.createElement("pre");
  pre.className = "params";
  pre.textContent = item.infotext;
  details.append(summary, pre);
  div.append(img, caption, meta, actions, details);
  return div;
}

function renderGallery() {
  const items = loadGallery();
  for (const item of items.slice().reverse()) $("gallery").prepend(card(item));
  $("empty").hidden = items.length > 0;
}

// ---- status ----

async function pollHealth() {
  const pill = $("status");
  try {
    const h = await (await fetch("/health")).json();
    const busy = h.running + h.queue;
    pill.className = "pill " + (busy > 0 ? "busy" : "ok");
    pill.textContent = busy > 0 ? h.running + " running · " + h.queue + " waiting" : "ready";
    if (h.auth && !localStorage.getItem(KEY_STORAGE)) askForKey();
    $("key-button").hidden = !h.auth;
  } catch (e) {
    pill.className = "pill down";
    pill.textContent = "server unreachable";
  }
}

// ---- wiring ----

async function start() {
  restoreForm();
  renderGallery();
  $("form").addEventListener("submit", generate);
  $("cancel").addEventListener("click", () => running && running.abort());
  $("random-seed").addEventListener("click", () => {
    $("seed").value = "";
    formChanged();
  });
  $("clear").addEventListener("click", () => {
    localStorage.removeItem(GALLERY_STORAGE);
    for (const c of [...$("gallery").querySelectorAll(".card")]) c.remove();
    $("empty").hidden = false;
  });
  $("model").addEventListener("change", () => modelChanged(true));
  for (const id of ["prompt", "negative", "count", "steps", "seed", "cfg", "sampler", "width", "height", "no-student"]) {
    $(id).addEventListener("input", formChanged);
  }
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate(e);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target !== $("prompt")) generate(e);
  });
  $("key-button").addEventListener("click", askForKey);
  $("key-dialog").addEventListener("close", () => {
    if ($("key").value) localStorage.setItem(KEY_STORAGE, $("key").value);
    loadModels();
  });
  await pollHealth();
  setInterval(pollHealth, 3000);
  await loadModels();
}

async function loadModels() {
  try {
    fillModels(await api("/mdx/v1/models"));
  } catch (e) {
    showError("Cannot load the models: " + e.message);
  }
}

start();
