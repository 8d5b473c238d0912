// regionstyle serve: the page. Plain JavaScript, no build step; talks to the JSON API in routes.py.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { styles: [], regionSettings: [], classes: [], choices: {}, paintings: [], selected: null,
                index: null, indexSize: [0, 0], job: null, events: null };

// ---- small helpers -----------------------------------------------------------------------------------
function say(text, ok = false) { $("message").textContent = text || ""; $("message").className = ok ? "ok" : ""; }

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error((body && body.error) || body || response.statusText);
  return body;
}

function colour(row) {  // the same golden-ratio hues as regionstyle.overlay.class_colour
  const hue = (row * 0.618033988749895) % 1;
  return `hsl(${Math.round(hue * 360)}, 70%, 55%)`;
}

function seconds(value) {
  if (value === null || value === undefined) return "";
  return value >= 90 ? `${Math.round(value / 60)} min` : `${Math.max(0, Math.round(value))} s`;
}

// ---- styles ------------------------------------------------------------------------------------------
async function loadStyles() {
  const data = await api("/api/styles");
  state.styles = data.styles;
  state.regionSettings = data.region_settings;
}

function styleOf(name) { return state.styles.find((s) => s.name === name); }

function thumbUrl(choice) {
  if (choice.style.startsWith("painting:")) {
    const p = state.paintings.find((x) => x.id === choice.style);
    return p ? p.thumbnail : "";
  }
  if (!styleOf(choice.style)) return "";
  const query = new URLSearchParams(choice.params || {}).toString();
  return `/api/styles/${encodeURIComponent(choice.style)}/thumb.png${query ? "?" + query : ""}`;
}

// ---- opening a photo ---------------------------------------------------------------------------------
async function openUpload() {
  const file = $("photo-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("photo", file);
  if ($("labels-file").files[0]) form.append("labels", $("labels-file").files[0]);
  await openWith(() => api("/api/photo", { method: "POST", body: form }));
}

async function openPath() {
  const path = $("photo-path").value.trim();
  if (!path) { say("type the path of a photo first"); return; }
  const body = { path, labels: $("labels-path").value.trim() || null };
  await openWith(() => api("/api/photo/path", { method: "POST", headers: { "Content-Type": "application/json" },
                                                 body: JSON.stringify(body) }));
}

async function openWith(request) {
  say("reading the photo and finding its regions ...", true);
  try {
    const info = await request();
    state.classes = info.classes;
    state.choices = {};
    for (const c of info.classes) state.choices[c.name] = Object.assign(
      { style: "keep", params: {}, strength: 1, color: "style", settings: {} }, info.initial[c.name] || {});
    $("photo-info").textContent = `${info.name}: ${info.width}x${info.height}, ${info.segmenter}`;
    await showPhoto();
    renderRegions();
    $("preview").disabled = $("render").disabled = false;
    $("result").hidden = true;
    say(`${info.classes.length} classes found; pick a style for some of them`, true);
  } catch (err) { say(err.message); }
}

async function showPhoto() {
  const stamp = Date.now();
  const img = $("photo");
  await new Promise((ok, bad) => { img.onload = ok; img.onerror = bad; img.src = `/api/photo/image.png?${stamp}`; });
  const map = new Image();
  await new Promise((ok, bad) => { map.onload = ok; map.onerror = bad; map.src = `/api/photo/regions.png?${stamp}`; });
  const canvas = document.createElement("canvas");
  canvas.width = map.width; canvas.height = map.height;
  const context = canvas.getContext("2d");
  context.drawImage(map, 0, 0);
  const data = context.getImageData(0, 0, map.width, map.height).data;
  state.index = new Uint8Array(map.width * map.height);
  for (let i = 0; i < state.index.length; i++) state.index[i] = data[4 * i];
  state.indexSize = [map.width, map.height];
  $("stage").classList.remove("empty");
  drawOverlay();
}

function drawOverlay() {
  const canvas = $("overlay");
  const [w, h] = state.indexSize;
  if (!state.index) return;
  canvas.width = w; canvas.height = h;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, w, h);
  if (!$("show-overlay").checked) return;
  const colours = state.classes.map((_, row) => {
    const probe = document.createElement("canvas").getContext("2d");
    probe.fillStyle = colour(row); probe.fillRect(0, 0, 1, 1);
    return probe.getImageData(0, 0, 1, 1).data;
  });
  const image = context.createImageData(w, h);
  const selectedRow = state.classes.findIndex((c) => c.name === state.selected);
  for (let i = 0; i < state.index.length; i++) {
    const row = state.index[i];
    const styled = state.classes[row] && state.choices[state.classes[row].name].style !== "keep";
    const c = colours[row] || [128, 128, 128, 255];
    image.data.set([c[0], c[1], c[2], row === selectedRow ? 150 : styled ? 85 : 30], 4 * i);
  }
  context.putImageData(image, 0, 0);
}

function rowAt(event) {
  const rect = $("overlay").getBoundingClientRect();
  const [w, h] = state.indexSize;
  const x = Math.min(w - 1, Math.floor((event.clientX - rect.left) / rect.width * w));
  const y = Math.min(h - 1, Math.floor((event.clientY - rect.top) / rect.height * h));
  return state.index ? state.index[y * w + x] : -1;
}

// ---- the region rows ---------------------------------------------------------------------------------
function renderRegions() {
  const box = $("regions");
  box.textContent = "";
  state.classes.forEach((c, row) => box.appendChild(regionRow(c, row)));
}

function regionRow(cls, row) {
  const choice = state.choices[cls.name];
  const div = document.createElement("div");
  div.className = "region" + (choice.style === "keep" ? " kept" : "") + (state.selected === cls.name ? " selected" : "");
  div.dataset.class = cls.name;
  div.innerHTML = `<span class="swatch" style="background:${colour(row)}"></span>
    <span class="name"></span><span class="share">${(cls.share * 100).toFixed(1)}%</span>
    <span class="controls"><select class="style"></select><img class="thumb" alt="">
      <label class="strength" title="style strength">strength <input type="range" min="0.1" max="3" step="0.1">
        <output></output></label>
      <select class="color" title="colour mode"><option value="style">style colours</option>
        <option value="preserve">photo colours</option><option value="match">matched colours</option></select>
    </span><span class="params"></span>
    <details class="settings"><summary>structure, edges, loss ...</summary><span class="fields"></span></details>`;
  div.querySelector(".name").textContent = cls.name;
  const select = div.querySelector("select.style");
  const options = [["keep", "keep (photo)"], ...state.styles.map((s) => [s.name, s.name]),
                   ...state.paintings.map((p) => [p.id, `painting: ${p.name}`])];
  for (const [value, text] of options) select.add(new Option(text, value, false, value === choice.style));
  select.title = styleOf(choice.style) ? styleOf(choice.style).description : "";
  select.onchange = () => { choice.style = select.value; choice.params = {}; select_(cls.name); };
  const thumb = div.querySelector(".thumb");
  thumb.src = thumbUrl(choice) || "data:,";
  thumb.hidden = choice.style === "keep";
  const range = div.querySelector("input[type=range]");
  range.value = choice.strength;
  div.querySelector("output").textContent = Number(choice.strength).toFixed(1);
  range.oninput = () => { choice.strength = Number(range.value); div.querySelector("output").textContent = choice.strength.toFixed(1); };
  const color = div.querySelector("select.color");
  color.value = choice.color;
  color.onchange = () => { choice.color = color.value; };
  fillParams(div.querySelector(".params"), choice, thumb);
  fillSettings(div.querySelector(".settings"), choice);
  div.onclick = (event) => { if (event.target === div || event.target.classList.contains("name")) select_(cls.name); };
  return div;
}

// The region's own settings (content_weight, edge_weight, ...: routes.py lists them from the schema); an
// empty field leaves the run's default, which the placeholder shows.
function fillSettings(details, choice) {
  const box = details.querySelector(".fields");
  details.open = Object.keys(choice.settings).length > 0;
  for (const spec of state.regionSettings) {
    const label = document.createElement("label");
    label.title = `${spec.help} (${spec.values})`;
    label.append(spec.name.replaceAll("_", " ") + " ");
    let input;
    if (spec.choices.length) {
      input = document.createElement("select");
      input.add(new Option(`default (${spec.default})`, ""));
      for (const value of spec.choices) input.add(new Option(value, value, false, value === choice.settings[spec.name]));
    } else {
      input = document.createElement("input");
      input.type = "number";
      input.step = "any";
      if (spec.low !== null) input.min = spec.low;
      if (spec.high !== null) input.max = spec.high;
      input.placeholder = spec.default;
      input.value = choice.settings[spec.name] ?? "";
    }
    input.name = spec.name;
    input.onchange = () => {
      if (input.value === "") delete choice.settings[spec.name];
      else choice.settings[spec.name] = spec.choices.length ? input.value : Number(input.value);
    };
    label.appendChild(input);
    box.appendChild(label);
  }
}

function fillParams(box, choice, thumb) {
  const style = styleOf(choice.style);
  if (!style) return;
  for (const [key, spec] of Object.entries(style.params)) {
    const label = document.createElement("label");
    label.title = spec.doc;
    label.append(key + " ");
    let input;
    if (spec.choices) {
      input = document.createElement("select");
      for (const value of spec.choices) input.add(new Option(value, value, false, value === (choice.params[key] ?? spec.default)));
    } else {
      input = document.createElement("input");
      input.type = "number";
      input.step = spec.type === "int" ? "1" : "0.1";
      if (spec.bounds) { input.min = spec.bounds[0]; input.max = spec.bounds[1]; }
      input.value = choice.params[key] ?? spec.default;
    }
    input.name = key;
    input.onchange = () => {
      choice.params[key] = spec.type === "str" ? input.value : Number(input.value);
      thumb.src = thumbUrl(choice);
    };
    label.appendChild(input);
    box.appendChild(label);
  }
}

function select_(name) {
  state.selected = name;
  renderRegions();
  drawOverlay();
  const row = document.querySelector(`.region[data-class="${CSS.escape(name)}"]`);
  if (row) row.scrollIntoView({ block: "nearest" });
}

// ---- paintings ---------------------------------------------------------------------------------------
async function uploadPainting() {
  const file = $("painting-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("painting", file);
  try {
    const painting = await api("/api/paintings", { method: "POST", body: form });
    state.paintings.push(painting);
    const img = document.createElement("img");
    img.src = painting.thumbnail; img.title = painting.name;
    $("paintings").appendChild(img);
    renderRegions();
    say(`painting ${painting.name} added: choose it in a region's list`, true);
  } catch (err) { say(err.message); }
}

// ---- rendering ---------------------------------------------------------------------------------------
function choices() {
  return state.classes.map((c) => Object.assign({ class: c.name }, state.choices[c.name]))
    .filter((c) => c.style !== "keep");
}

async function startRender(preview) {
  try {
    const job = await api("/api/render", { method: "POST", headers: { "Content-Type": "application/json" },
                                          body: JSON.stringify({ choices: choices(), preview }) });
    follow(job);
  } catch (err) { say(err.message); }
}

function follow(job) {
  if (state.events) state.events.close();
  state.job = job;
  $("cancel").disabled = false;
  $("progress").value = 0;
  say(job.kind === "preview" ? "rendering a preview ..." : "rendering at full size ...", true);
  const events = new EventSource(`/api/jobs/${job.id}/events`);
  state.events = events;
  const update = (message) => {
    const s = JSON.parse(message.data);
    $("progress").value = s.fraction;
    const eta = s.status === "running" && s.eta !== null ? `, about ${seconds(s.eta)} left` : "";
    $("progress-text").textContent = `${s.kind}: ${Math.round(s.fraction * 100)}%${eta}` + (s.detail ? ` (${s.detail})` : "");
    return s;
  };
  events.addEventListener("progress", update);
  events.addEventListener("end", (message) => {
    events.close();
    const s = update(message);
    if (state.job && state.job.id === s.id) finished(s);
  });
  events.onerror = () => { events.close(); };
}

function finished(s) {
  $("cancel").disabled = true;
  if (s.status === "done") {
    const base = `/api/jobs/${s.id}/files/`;
    $("result-img").src = base + "image";
    $("result-kind").textContent = s.kind === "preview" ? "(preview)" : "(full size)";
    $("download-image").href = base + "image";
    for (const kind of ["layers", "rules"]) {
      const link = $("download-" + kind);
      link.hidden = !s.downloads.includes(kind);
      link.href = base + kind;
    }
    $("result").hidden = false;
    say(`${s.kind} done in ${seconds(s.elapsed)}`, true);
  } else if (s.status === "cancelled") {
    say("cancelled");
  } else {
    say(`${s.kind} failed: ${s.error}`);
  }
}

async function cancel() {
  if (!state.job) return;
  try { await api(`/api/jobs/${state.job.id}/cancel`, { method: "POST" }); } catch (err) { say(err.message); }
}

// ---- wiring ------------------------------------------------------------------------------------------
function wire() {
  $("photo-file").onchange = openUpload;
  $("labels-file").onchange = () => { if ($("photo-file").files[0]) openUpload(); };
  $("open-path").onclick = openPath;
  $("photo-path").onkeydown = (e) => { if (e.key === "Enter") openPath(); };
  $("painting-file").onchange = uploadPainting;
  $("preview").onclick = () => startRender(true);
  $("render").onclick = () => startRender(false);
  $("cancel").onclick = cancel;
  $("show-overlay").onchange = drawOverlay;
  $("overlay").onmousemove = (event) => {
    const c = state.classes[rowAt(event)];
    $("hover").textContent = c ? `${c.name} ${(c.share * 100).toFixed(1)}% -> ${state.choices[c.name].style}` : "";
  };
  $("overlay").onclick = (event) => { const c = state.classes[rowAt(event)]; if (c) select_(c.name); };
}

wire();
loadStyles().catch((err) => say("could not load the styles: " + err.message));
