// Editor state: clips, the timeline's segments, selection, playhead, undo/redo history.
// Segments carry a local `key`; the server's id for a key lives in `serverIds` so history
// snapshots stay valid across saves.

export const MIN_DURATION = 0.1;
const round = (value) => Math.round(value * 1000) / 1000;

let keySeq = 0;
export const newKey = () => `s${++keySeq}`;

export class EditorState extends EventTarget {
  constructor(project) {
    super();
    this.project = project;
    this.clips = new Map();
    this.segments = [];
    this.serverIds = new Map();
    this.version = 0;
    this.selected = null;
    this.playhead = 0;
    this.undoStack = [];
    this.redoStack = [];
    this.changeSeq = 0;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // ---- clips ----------------------------------------------------------------------------
  setClip(clip) {
    this.clips.set(clip.id, clip);
    this.emit("clips");
  }

  removeClip(clipId) {
    this.clips.delete(clipId);
    this.emit("clips");
  }

  clipDuration(clipId) {
    const clip = this.clips.get(clipId);
    return clip && clip.duration != null ? Number(clip.duration) : 0;
  }

  // ---- timeline -------------------------------------------------------------------------
  loadTimeline(timeline) {
    this.version = timeline.version;
    this.serverIds.clear();
    this.segments = timeline.segments.map((s) => {
      const key = newKey();
      this.serverIds.set(key, s.id);
      return {
        key,
        clip_id: s.clip_id,
        name: s.name,
        layer: s.layer,
        start_time: Number(s.start_time),
        source_start: Number(s.source_start),
        duration: Number(s.duration),
        ...segmentExtras(s),
      };
    });
    if (!this.segments.some((s) => s.key === this.selected)) this.selected = null;
    this.emit("timeline", { fromServer: true });
  }

  get duration() {
    return this.segments.reduce((end, s) => Math.max(end, s.start_time + s.duration), 0);
  }

  segment(key) {
    return this.segments.find((s) => s.key === key) || null;
  }

  snapshot() {
    return this.segments.map((s) => ({ ...s }));
  }

  // Apply a change to the segments as one undoable step.
  commit(mutate, { before } = {}) {
    const prior = before || this.snapshot();
    const result = mutate(this.segments);
    if (Array.isArray(result)) this.segments = result;
    this.segments.forEach((s) => {
      s.start_time = round(s.start_time);
      s.source_start = round(s.source_start);
      s.duration = round(s.duration);
    });
    this.undoStack.push(prior);
    if (this.undoStack.length > 200) this.undoStack.shift();
    this.redoStack = [];
    this.changed();
  }

  changed() {
    this.changeSeq += 1;
    if (this.selected && !this.segment(this.selected)) this.selected = null;
    this.emit("timeline", { fromServer: false });
    this.emit("history");
  }

  // Show a live change (during a drag) without recording history or saving.
  preview() {
    this.emit("timeline", { live: true });
  }

  undo() {
    if (!this.undoStack.length) return false;
    this.redoStack.push(this.snapshot());
    this.segments = this.undoStack.pop();
    this.changed();
    return true;
  }

  redo() {
    if (!this.redoStack.length) return false;
    this.undoStack.push(this.snapshot());
    this.segments = this.redoStack.pop();
    this.changed();
    return true;
  }

  select(key) {
    this.selected = key;
    this.emit("selection");
  }

  setPlayhead(seconds, { fromPlayer = false } = {}) {
    this.playhead = Math.max(0, seconds);
    this.emit("playhead", { fromPlayer });
  }

  // The body of POST /api/projects/:id/timeline.
  payload() {
    return {
      version: this.version,
      segments: this.segments.map((s) => {
        const item = {
          clip_id: s.clip_id,
          name: s.name || "",
          layer: s.layer,
          start_time: s.start_time,
          source_start: s.source_start,
          duration: s.duration,
          ...extrasPayload(s, this.segments),
        };
        const id = this.serverIds.get(s.key);
        if (id) item.id = id;
        return item;
      }),
    };
  }

  // After a save: learn the server ids of segments that had none (matched by their fields).
  adoptSaved(sentKeys, timeline) {
    this.version = timeline.version;
    const unclaimed = timeline.segments.filter((s) => ![...this.serverIds.values()].includes(s.id));
    const live = new Set(timeline.segments.map((s) => s.id));
    for (const [key, id] of this.serverIds) if (!live.has(id)) this.serverIds.delete(key);
    for (const key of sentKeys) {
      if (this.serverIds.has(key)) continue;
      const seg = this.segment(key) || null;
      if (!seg) continue;
      const match = unclaimed.findIndex(
        (s) =>
          s.clip_id === seg.clip_id &&
          s.layer === seg.layer &&
          Math.abs(Number(s.start_time) - seg.start_time) < 0.0015 &&
          Math.abs(Number(s.duration) - seg.duration) < 0.0015,
      );
      if (match >= 0) {
        this.serverIds.set(key, unclaimed[match].id);
        unclaimed.splice(match, 1);
      }
    }
  }
}

// ---- the fields beyond timing (API.md "Canvas, sound, text, …") -----------------------------
// Objects (text, transition) are replaced, never changed in place: undo snapshots share them.
export const MEDIA_LAYERS = ["video", "audio"];

function segmentExtras(s) {
  return {
    volume: s.volume == null ? 1 : Number(s.volume),
    fade_in: Number(s.fade_in || 0),
    fade_out: Number(s.fade_out || 0),
    fit: s.fit || null,
    transition: s.transition ? { type: s.transition.type, duration: Number(s.transition.duration) } : null,
    duck: Boolean(s.duck),
    text: s.text ? { ...s.text } : null,
  };
}

// Only the fields that belong to the segment's layer: a segment dragged from one lane to the
// other must not carry, say, a transition onto the audio lane.
// Moves and trims are not checked against fades and transitions: what they made impossible is
// adapted here the way timeline/rules.py adapts kept values (fades scaled down to fit, a
// transition shortened, or dropped when no video segment ends where this one starts).
function extrasPayload(s, segments) {
  const item = {};
  const media = MEDIA_LAYERS.includes(s.layer);
  let fadeIn = s.fade_in || 0;
  let fadeOut = s.fade_out || 0;
  if (fadeIn + fadeOut > s.duration) {
    const scale = s.duration / (fadeIn + fadeOut);
    fadeIn = Math.floor(fadeIn * scale * 1000) / 1000;
    fadeOut = Math.floor(fadeOut * scale * 1000) / 1000;
  }
  item.fade_in = fadeIn;
  item.fade_out = fadeOut;
  if (media && s.volume != null) item.volume = s.volume;
  if (s.layer === "video") {
    if (s.fit) item.fit = s.fit;
    let transition = s.transition || null;
    if (transition) {
      const prev = segments.find((o) => o.layer === "video" && o.key !== s.key && Math.abs(endOf(o) - s.start_time) < 0.0005);
      if (!prev) transition = null;
      else if (transition.duration > Math.min(prev.duration, s.duration)) transition = { ...transition, duration: Math.min(prev.duration, s.duration) };
    }
    item.transition = transition;
  }
  if (s.layer === "audio") item.duck = Boolean(s.duck);
  if (!media && s.text) item.text = s.text;
  return item;
}

// ---- pure timeline geometry --------------------------------------------------------------

export const endOf = (s) => s.start_time + s.duration;

// Where a `duration`-long video segment can go nearest to `desired` without overlapping others.
export function fitInGaps(segments, { layer, duration, desired, ignoreKey }) {
  desired = Math.max(0, desired);
  if (layer !== "video") return desired;
  const others = segments
    .filter((s) => s.layer === "video" && s.key !== ignoreKey)
    .sort((a, b) => a.start_time - b.start_time);
  let best = null;
  let cursor = 0;
  const consider = (from, to) => {
    if (to - from + 1e-6 < duration) return;
    const place = Math.min(Math.max(desired, from), to - duration);
    if (best === null || Math.abs(place - desired) < Math.abs(best - desired)) best = place;
  };
  for (const s of others) {
    consider(cursor, s.start_time);
    cursor = Math.max(cursor, endOf(s));
  }
  consider(cursor, Infinity);
  return best === null ? cursor : best;
}

// The neighbours that bound a video segment's trims.
export function neighbours(segments, seg) {
  if (seg.layer !== "video") return { prevEnd: 0, nextStart: Infinity };
  let prevEnd = 0;
  let nextStart = Infinity;
  for (const s of segments) {
    if (s.layer !== "video" || s.key === seg.key) continue;
    if (endOf(s) <= seg.start_time + 1e-6) prevEnd = Math.max(prevEnd, endOf(s));
    if (s.start_time >= endOf(seg) - 1e-6) nextStart = Math.min(nextStart, s.start_time);
  }
  return { prevEnd, nextStart };
}

// Move a segment's in-point to timeline time `t` (keeps its out-point), within what is allowed.
export function trimIn(segments, seg, t, clipDuration) {
  const { prevEnd } = neighbours(segments, seg);
  const end = endOf(seg);
  const earliest = Math.max(prevEnd, seg.start_time - seg.source_start, 0);
  const latest = end - MIN_DURATION;
  const start = Math.min(Math.max(t, earliest), latest);
  const delta = start - seg.start_time;
  seg.start_time = start;
  seg.source_start = Math.max(0, seg.source_start + delta);
  seg.duration = Math.min(end - start, clipDuration - seg.source_start);
}

// Move a segment's out-point to timeline time `t`.
export function trimOut(segments, seg, t, clipDuration) {
  const { nextStart } = neighbours(segments, seg);
  const latest = Math.min(nextStart, seg.start_time + (clipDuration - seg.source_start));
  const end = Math.min(Math.max(t, seg.start_time + MIN_DURATION), latest);
  seg.duration = end - seg.start_time;
}

export function segmentAt(segments, t, layer) {
  return segments.find((s) => s.layer === layer && s.start_time <= t + 1e-6 && t < endOf(s) - 1e-6) || null;
}
