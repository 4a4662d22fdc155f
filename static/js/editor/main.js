// The project editor: wires the library, uploads, timeline, preview, autosave, export, jobs and
// the live socket together, and holds the editing commands (undo, split, trim, delete, keys).
import { api, formatTime, listAll, toast } from "../api.js";
import { Autosave } from "./autosave.js";
import { setupCollaboration } from "./collab.js";
import { ExportPanel, JobsPanel } from "./export.js";
import { Library } from "./library.js";
import { connectLive } from "./live.js";
import { Player } from "./preview.js";
import { EditorState, MIN_DURATION, endOf, newKey, segmentAt, trimIn, trimOut } from "./state.js";
import { TimelineView } from "./timeline.js";

const config = JSON.parse(document.getElementById("editor-config").textContent);
const projectId = config.project.id;
const state = new EditorState(config.project);

const player = new Player(state);
const timeline = new TimelineView(state, { onSeek: (t) => player.seek(t) });
const autosave = new Autosave({ state, projectId });

function addToTimeline(clipId) {
  const seg = timeline.addClip(clipId, { layer: "video" });
  if (seg) {
    timeline.focusSegment(seg.key);
    toast(`Added to the video lane at ${formatTime(seg.start_time, { precise: true })}.`, { timeout: 2000, id: "added" });
  }
}

const library = new Library({ state, projectId, onAddToTimeline: addToTimeline, onClipDeletedWithSegments: () => autosave.reload() });

window.addEventListener("beforeunload", (event) => {
  if (autosave.pending || library.uploads.busy) {
    autosave.storeDraft();
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
    autosave.save();
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

// ---- export, jobs and live updates ---------------------------------------------------------
const exportPanel = new ExportPanel({ state, projectId, onSaveNow: () => autosave.saveNow() });
const jobsPanel = new JobsPanel({ state, projectId, retryClip: (clipId) => library.retryClip(clipId) });
// Share dialog, comments and history (collab.js); they hear the project socket too.
const collab = setupCollaboration({
  config,
  state,
  timeline,
  seek: (t) => player.seek(t),
  reloadTimeline: async () => {
    await autosave.reload();
    state.emit("history");
  },
});
connectLive({ projectId, state, library, autosave, panels: [exportPanel, jobsPanel], listeners: collab.listeners });

// ---- boot ----------------------------------------------------------------------------------
async function boot() {
  const [clips, fresh] = await Promise.all([listAll(`/api/projects/${projectId}/clips?page_size=200`), api("GET", `/api/projects/${projectId}/timeline`)]);
  for (const clip of clips) state.clips.set(clip.id, clip);
  library.render();
  autosave.start(fresh);
  state.emit("history");
  if (state.segments.length) timeline.fit();
  jobsPanel.load();
  await collab.load();
}

boot().catch((error) => {
  toast(`The project could not be loaded: ${error.message} Reload the page to try again.`, { level: "error", timeout: 0 });
});
