// The project editor: wires the library, uploads, timeline, preview, export and jobs together;
// autosaves the timeline (debounced, with version conflicts explained) and never drops work.
import { api, formatBytes, formatTime, h, listAll, openSocket, toast } from "../api.js";
import { ExportPanel, JobsPanel, explainFailure } from "./export.js";
import { Player } from "./preview.js";
import { EditorState, MIN_DURATION, endOf, newKey, segmentAt, trimIn, trimOut } from "./state.js";
import { CLIP_MIME, TimelineView } from "./timeline.js";
import { UploadManager } from "./upload.js";

const config = JSON.parse(document.getElementById("editor-config").textContent);
const projectId = config.project.id;
const state = new EditorState(config.project);
const draftKey = `clipseq:draft:${projectId}`;
const SAVE_DELAY = 700;

const player = new Player(state);
const timeline = new TimelineView(state, { onSeek: (t) => player.seek(t) });

// ---- clip library ------------------------------------------------------------------------
const clipList = document.getElementById("clip-list");
const dropzone = document.getElementById("dropzone");
const library = document.getElementById("library");
const fileInput = document.getElementById("file-input");

const STATUS_TEXT = { uploading: "Uploading", processing: "Processing", ready: "Ready", failed: "Failed" };
const clipProgress = new Map();

function clipCard(clip) {
  const ready = clip.status === "ready";
  const thumb = h("div", { class: "clip-thumb" });
  if (clip.thumbnail_url) thumb.style.backgroundImage = `url("${encodeURI(clip.thumbnail_url)}")`;
  else thumb.append(h("span", { class: clip.status === "failed" ? "thumb-failed" : "spinner", "aria-hidden": "true" }));
  if (clip.duration != null) thumb.append(h("span", { class: "duration", text: formatTime(clip.duration) }));
  const progress = clipProgress.get(clip.id);
  const status = STATUS_TEXT[clip.status] || clip.status;
  const meta = h(
    "div",
    { class: "meta" },
    h("span", { class: `badge badge-${clip.status}`, text: progress != null && clip.status === "processing" ? `${status} ${progress} %` : status }),
    clip.resolution ? h("span", { text: clip.resolution }) : null,
    clip.file_size ? h("span", { text: formatBytes(clip.file_size) }) : null,
  );
  const info = h("div", { class: "clip-info" }, h("span", { class: "name", text: clip.name, title: clip.original_filename || clip.name }), meta);
  if (clip.status === "failed") {
    const explained = explainFailure({ error_message: clip.error_message, job_type: "ingest" }, clip.name);
    info.append(h("span", { class: "error", text: explained, title: explained }));
  }
  const actions = h("div", { class: "actions" });
  if (ready) {
    actions.append(
      h("button", { type: "button", class: "btn btn-sm", text: "Add to timeline", "aria-label": `Add ${clip.name} to the timeline`, onclick: () => addToTimeline(clip.id) }),
    );
  }
  if (clip.status === "failed") {
    actions.append(h("button", { type: "button", class: "btn btn-sm", text: "Retry", onclick: () => retryClip(clip.id) }));
  }
  if (clip.status !== "uploading") {
    actions.append(h("button", { type: "button", class: "btn-icon", "aria-label": `Delete clip ${clip.name}`, title: "Delete clip", text: "×", onclick: () => deleteClip(clip) }));
  }
  info.append(actions);
  const card = h(
    "li",
    {
      class: "clip-card",
      draggable: ready ? "true" : "false",
      "aria-disabled": ready ? null : "true",
      dataset: { clip: clip.id, status: clip.status },
      title: ready ? "Drag onto the timeline" : null,
    },
    thumb,
    info,
  );
  if (clip.filmstrip_url) {
    card.append(h("div", { class: "clip-strip", "aria-hidden": "true", style: { backgroundImage: `url("${encodeURI(clip.filmstrip_url)}")` } }));
  }
  card.addEventListener("dragstart", (event) => {
    if (!ready) return event.preventDefault();
    event.dataTransfer.setData(CLIP_MIME, clip.id);
    event.dataTransfer.setData("text/plain", clip.name);
    event.dataTransfer.effectAllowed = "copy";
    card.classList.add("is-dragging");
  });
  card.addEventListener("dragend", () => card.classList.remove("is-dragging"));
  return card;
}

function renderLibrary() {
  const clips = [...state.clips.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  clipList.replaceChildren(...clips.map(clipCard));
  const empty = clips.length === 0 && !uploads.tasks.length;
  dropzone.classList.toggle("compact", !empty);
  dropzone.replaceChildren(
    h("strong", { text: empty ? "Start by adding your clips" : "Drop more files here" }),
    empty ? "Drag video files here or press “Add clips”. Big files upload in pieces and resume if interrupted." : "or press “Add clips”.",
  );
}

function addToTimeline(clipId) {
  const seg = timeline.addClip(clipId, { layer: "video" });
  if (seg) {
    timeline.focusSegment(seg.key);
    toast(`Added to the video lane at ${formatTime(seg.start_time, { precise: true })}.`, { timeout: 2000, id: "added" });
  }
}

async function refreshClip(clipId) {
  try {
    state.setClip(await api("GET", `/api/clips/${clipId}`));
  } catch (error) {
    if (error.status === 404) state.removeClip(clipId);
  }
}

async function retryClip(clipId) {
  try {
    await api("POST", `/api/clips/${clipId}/retry`);
    await refreshClip(clipId);
  } catch (error) {
    toast(error.message, { level: "error" });
  }
}

async function deleteClip(clip) {
  const used = state.segments.filter((s) => s.clip_id === clip.id).length;
  const warning = used ? ` It is used by ${used} segment(s) on the timeline, which will be removed too.` : "";
  if (!window.confirm(`Delete “${clip.name}” from the library?${warning}`)) return;
  try {
    await api("DELETE", `/api/clips/${clip.id}`);
    state.removeClip(clip.id);
    if (used) await reloadTimeline();
  } catch (error) {
    toast(error.message, { level: "error" });
  }
}

state.addEventListener("clips", renderLibrary);

const uploads = new UploadManager({
  projectId,
  container: document.getElementById("uploads"),
  onClip: (clip) => state.setClip(clip),
  refreshClip,
  onClipRemoved: (clipId) => state.removeClip(clipId),
});

fileInput.addEventListener("change", () => {
  uploads.addFiles([...fileInput.files]);
  fileInput.value = "";
  renderLibrary();
});
let dragDepth = 0;
const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
library.addEventListener("dragenter", (event) => {
  if (!hasFiles(event)) return;
  dragDepth += 1;
  library.classList.add("is-dragover");
});
library.addEventListener("dragleave", (event) => {
  if (!hasFiles(event)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) library.classList.remove("is-dragover");
});
library.addEventListener("dragover", (event) => {
  if (hasFiles(event)) event.preventDefault();
});
library.addEventListener("drop", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  library.classList.remove("is-dragover");
  uploads.addFiles([...event.dataTransfer.files]);
  renderLibrary();
});
// A file dropped anywhere else must not navigate away from the editor.
window.addEventListener("dragover", (event) => hasFiles(event) && event.preventDefault());
window.addEventListener("drop", (event) => hasFiles(event) && event.preventDefault());

// ---- autosave ----------------------------------------------------------------------------
const saveState = document.getElementById("save-state");
const conflictBar = document.getElementById("conflict-bar");
let saveTimer = null;
let saving = null;
let savedSeq = 0;
let conflict = false;

function showSave(kind, text) {
  saveState.className = `save-state is-${kind}`;
  saveState.querySelector(".text").textContent = text;
}

const dirty = () => state.changeSeq !== savedSeq;

function storeDraft() {
  try {
    localStorage.setItem(draftKey, JSON.stringify({ version: state.version, segments: state.snapshot(), ids: [...state.serverIds], at: Date.now() }));
  } catch {
    /* storage full: the server copy is still there */
  }
}

function scheduleSave() {
  clearTimeout(saveTimer);
  if (conflict) return;
  showSave("dirty", "Unsaved changes");
  saveTimer = setTimeout(save, SAVE_DELAY);
}

async function save() {
  clearTimeout(saveTimer);
  if (saving) return saving;
  if (!dirty() || conflict) return;
  const seq = state.changeSeq;
  const payload = state.payload();
  const sentKeys = state.segments.map((s) => s.key);
  showSave("saving", "Saving…");
  saving = (async () => {
    try {
      const saved = await api("POST", `/api/projects/${projectId}/timeline`, { json: payload });
      state.adoptSaved(sentKeys, saved);
      savedSeq = seq;
      for (const node of document.querySelectorAll(".segment.is-invalid")) node.classList.remove("is-invalid");
      if (!dirty()) {
        localStorage.removeItem(draftKey);
        showSave("saved", "All changes saved");
      }
    } catch (error) {
      if (error.status === 409) {
        showConflict();
      } else if (error.status === 400) {
        const index = error.details && error.details.segment;
        const key = index != null ? sentKeys[index] : null;
        showSave("error", "Not saved — see the message");
        toast(`${error.message} Undo (Ctrl+Z) or fix that segment; saving resumes on your next change.`, { level: "error", timeout: 9000 });
        if (key) document.querySelector(`.segment[data-key="${CSS.escape(key)}"]`)?.classList.add("is-invalid");
        savedSeq = seq; // do not retry the same invalid timeline in a loop
      } else {
        showSave("error", "Offline — will retry");
        setTimeout(() => dirty() && scheduleSave(), 4000);
      }
    } finally {
      saving = null;
    }
    if (dirty() && !conflict) scheduleSave();
  })();
  return saving;
}

async function saveNow() {
  if (saving) await saving;
  if (dirty()) await save();
  if (conflict) throw new Error("Resolve the timeline conflict first: keep your version or load theirs.");
  if (dirty()) throw new Error("The timeline has unsaved changes that the server refused. Fix them, then export.");
}

function showConflict() {
  conflict = true;
  clearTimeout(saveTimer);
  conflictBar.hidden = false;
  showSave("error", "Not saved — conflict");
  document.getElementById("conflict-keep").focus();
}

async function reloadTimeline() {
  const fresh = await api("GET", `/api/projects/${projectId}/timeline`);
  state.loadTimeline(fresh);
  savedSeq = state.changeSeq;
  return fresh;
}

document.getElementById("conflict-reload").addEventListener("click", async () => {
  conflict = false;
  conflictBar.hidden = true;
  state.undoStack.push(state.snapshot()); // their version replaces mine, but Ctrl+Z brings mine back
  await reloadTimeline();
  localStorage.removeItem(draftKey);
  state.emit("history");
  showSave("saved", "Loaded the latest version");
});

document.getElementById("conflict-keep").addEventListener("click", async () => {
  // Keep mine: save my segments on top of the latest version.
  const latest = await api("GET", `/api/projects/${projectId}/timeline`);
  const liveIds = new Set(latest.segments.map((s) => s.id));
  for (const [key, id] of state.serverIds) if (!liveIds.has(id)) state.serverIds.delete(key);
  state.version = latest.version;
  conflict = false;
  conflictBar.hidden = true;
  state.changeSeq += 1;
  await save();
});

state.addEventListener("timeline", (event) => {
  if (event.detail && (event.detail.fromServer || event.detail.live)) return;
  storeDraft();
  scheduleSave();
});

window.addEventListener("beforeunload", (event) => {
  if (dirty() || saving || uploads.busy) {
    storeDraft();
    event.preventDefault();
    event.returnValue = "";
  }
});

// ---- undo/redo and editing commands --------------------------------------------------------
const undoBtn = document.getElementById("undo");
const redoBtn = document.getElementById("redo");
state.addEventListener("history", () => {
  undoBtn.disabled = !state.undoStack.length;
  redoBtn.disabled = !state.redoStack.length;
});
undoBtn.addEventListener("click", () => state.undo());
redoBtn.addEventListener("click", () => state.redo());

// The segment a command acts on: the selected one, else the one under the playhead.
function target({ atPlayhead = false } = {}) {
  const sel = state.segment(state.selected);
  const t = state.playhead;
  if (sel && (!atPlayhead || (sel.start_time < t && t < endOf(sel)))) return sel;
  return segmentAt(state.segments, t, "video") || segmentAt(state.segments, t, "audio");
}

function split() {
  const seg = target({ atPlayhead: true });
  const t = state.playhead;
  if (!seg || t - seg.start_time < MIN_DURATION || endOf(seg) - t < MIN_DURATION) {
    toast("Put the playhead inside a segment (not at its very edge) to split it.", { timeout: 3000 });
    return;
  }
  const offset = t - seg.start_time;
  const right = { ...seg, key: newKey(), start_time: t, source_start: seg.source_start + offset, duration: seg.duration - offset };
  state.commit((segments) => {
    const left = segments.find((s) => s.key === seg.key);
    left.duration = offset;
    segments.push(right);
  });
  state.select(right.key);
  timeline.focusSegment(right.key);
}

function trimToPlayhead(edge) {
  const seg = target();
  if (!seg) return toast("Select a segment first (click it or Tab to it).", { timeout: 3000 });
  const before = state.snapshot();
  const clipDuration = state.clipDuration(seg.clip_id) || seg.duration;
  if (edge === "in") trimIn(state.segments, seg, state.playhead, clipDuration);
  else trimOut(state.segments, seg, state.playhead, clipDuration);
  state.commit(() => {}, { before });
  timeline.focusSegment(seg.key);
}

function removeSelected() {
  const seg = state.segment(state.selected);
  if (!seg) return;
  const lane = state.segments.filter((s) => s.layer === seg.layer).sort((a, b) => a.start_time - b.start_time);
  const next = lane[lane.indexOf(seg) + 1] || lane[lane.indexOf(seg) - 1];
  state.commit((segments) => segments.filter((s) => s.key !== seg.key));
  if (next) {
    state.select(next.key);
    timeline.focusSegment(next.key);
  } else {
    document.getElementById("lane-video").focus?.();
  }
}

document.getElementById("split").addEventListener("click", split);
document.getElementById("trim-in").addEventListener("click", () => trimToPlayhead("in"));
document.getElementById("trim-out").addEventListener("click", () => trimToPlayhead("out"));
document.getElementById("delete").addEventListener("click", removeSelected);

const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) && el.type !== "range";

document.addEventListener("keydown", (event) => {
  if (document.querySelector("dialog[open]")) return;
  if (typing(event.target)) return;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key;
  if (mod && key.toLowerCase() === "z") {
    event.preventDefault();
    if (event.shiftKey) state.redo();
    else state.undo();
  } else if (mod && key.toLowerCase() === "y") {
    event.preventDefault();
    state.redo();
  } else if (mod && key.toLowerCase() === "s") {
    event.preventDefault();
    save();
  } else if (mod) {
    return;
  } else if (key === " ") {
    if (event.target.tagName === "BUTTON" && event.target.id !== "play") return; // Space presses buttons
    event.preventDefault();
    player.toggle();
  } else if (key === "s" || key === "S") {
    event.preventDefault();
    split();
  } else if (key === "[") {
    trimToPlayhead("in");
  } else if (key === "]") {
    trimToPlayhead("out");
  } else if (key === "Delete" || key === "Backspace") {
    event.preventDefault();
    removeSelected();
  } else if (key === "ArrowLeft" || key === "ArrowRight") {
    event.preventDefault();
    const step = (event.shiftKey ? 1 : 1 / 30) * (key === "ArrowLeft" ? -1 : 1);
    player.seek(state.playhead + step);
  } else if (key === "Home") {
    player.seek(0);
  } else if (key === "End") {
    player.seek(state.duration);
  } else if (key === "+" || key === "=") {
    timeline.zoomBy(10);
  } else if (key === "-") {
    timeline.zoomBy(-10);
  } else if (key === "Escape") {
    state.select(null);
  }
});

// ---- project name --------------------------------------------------------------------------
const nameInput = document.getElementById("project-name");
async function renameProject() {
  const name = nameInput.value.trim();
  if (!name) {
    nameInput.value = state.project.name;
    return;
  }
  if (name === state.project.name) return;
  try {
    state.project = await api("PATCH", `/api/projects/${projectId}`, { json: { name } });
    document.title = `${state.project.name} — Clip Sequencer`;
  } catch (error) {
    toast(error.message, { level: "error" });
    nameInput.value = state.project.name;
  }
}
nameInput.addEventListener("change", renameProject);
nameInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter") nameInput.blur();
  if (event.key === "Escape") {
    nameInput.value = state.project.name;
    nameInput.blur();
  }
});

// ---- export and jobs -----------------------------------------------------------------------
const exportPanel = new ExportPanel({ state, projectId, onSaveNow: saveNow });
const jobsPanel = new JobsPanel({ state, projectId, retryClip });

// ---- live updates --------------------------------------------------------------------------
const connState = document.getElementById("conn-state");
let everOpen = false;
let fallbackPoll = null;
function pollProcessing() {
  for (const clip of state.clips.values()) if (clip.status === "processing") refreshClip(clip.id);
}

openSocket(`/ws/projects/${projectId}/`, {
  onState(s) {
    connState.hidden = s === "open" || !everOpen;
    if (s === "open") {
      if (everOpen) pollProcessing(); // catch up on what happened while disconnected
      everOpen = true;
      clearInterval(fallbackPoll);
      fallbackPoll = null;
    } else if (!fallbackPoll) {
      fallbackPoll = setInterval(pollProcessing, 5000);
    }
  },
  onMessage(message) {
    if (message.type?.startsWith("processing:")) {
      exportPanel.onSocket(message);
      jobsPanel.onSocket(message);
      if (message.clip_id && state.clips.has(message.clip_id)) {
        if (message.type === "processing:progress") {
          clipProgress.set(message.clip_id, Math.floor(message.progress || 0));
          const clip = state.clips.get(message.clip_id);
          if (clip.status === "uploading") clip.status = "processing";
          renderLibrary();
        } else {
          clipProgress.delete(message.clip_id);
          refreshClip(message.clip_id);
        }
      }
    } else if (message.type === "timeline:updated") {
      // Someone else saved (another tab): take it if nothing is pending here, else the next
      // save meets the conflict and asks.
      setTimeout(() => {
        if (message.version > state.version && !saving && !dirty() && !conflict) {
          reloadTimeline();
          toast("The timeline was updated from another tab or device.", { timeout: 3000 });
        }
      }, 800);
    } else if (message.type === "notification" && message.message) {
      toast(message.message, { level: message.level === "error" ? "error" : "info" });
    }
  },
});

// Even without any socket, clips still processing get refreshed now and then.
setInterval(() => {
  if (!everOpen) pollProcessing();
}, 6000);

// ---- boot ----------------------------------------------------------------------------------
async function boot() {
  const [clips, fresh] = await Promise.all([listAll(`/api/projects/${projectId}/clips?page_size=200`), api("GET", `/api/projects/${projectId}/timeline`)]);
  for (const clip of clips) state.clips.set(clip.id, clip);
  renderLibrary();
  state.loadTimeline(fresh);
  savedSeq = state.changeSeq;
  // Unsaved edits from a tab that closed before its save landed.
  let draft = null;
  try {
    draft = JSON.parse(localStorage.getItem(draftKey));
  } catch {}
  if (draft && Array.isArray(draft.segments)) {
    const restore = () => {
      state.serverIds = new Map(draft.ids || []);
      state.version = fresh.version;
      state.commit(() => draft.segments);
    };
    if (draft.version === fresh.version) {
      restore();
      toast("Restored your unsaved changes from last time.", { level: "success" });
    } else {
      toast("Unsaved changes from an earlier session were made on an older version of this timeline.", {
        timeout: 0,
        actions: [
          { label: "Restore mine", run: restore },
          { label: "Discard", run: () => localStorage.removeItem(draftKey) },
        ],
      });
    }
  }
  state.emit("history");
  if (state.segments.length) timeline.fit();
  jobsPanel.load();
}

boot().catch((error) => {
  toast(`The project could not be loaded: ${error.message} Reload the page to try again.`, { level: "error", timeout: 0 });
});
