// Editor state: clips, the timeline's segments as this editor shows them, selection, playhead,
// and undo/redo of this user's own edits. Segments carry a local `key` (the sync in
// autosave.js maps keys to server ids). Every edit is a list of operations (create / update /
// delete of one segment, with the fields before and after); undo applies their inverse to the
// timeline as it is now, so it never takes back what someone else did.

export const MIN_DURATION = 0.1;
// How long a still image shows when it is first placed (it may then be trimmed to any length).
export const STILL_SECONDS = 5;

// A still image: a ready clip without a length (the server's rule too).
export const isStill = (clip) => Boolean(clip && clip.status === "ready" && clip.duration == null);

// Whether a clip's sound can be heard: false for stills and clips probed without audio, as the
// server refuses those on the audio lane; unknown (not probed yet) counts as sound.
export const hasSound = (clip) => Boolean(clip) && !isStill(clip) && !(clip.metadata && clip.metadata.has_audio === false);
const round = (value) => Math.round(value * 1000) / 1000;

let keySeq = 0;
export const newKey = () => `s${++keySeq}`;

// The fields an edit compares: timing, then the fields of API.md "Canvas, sound, text, …".
export const FIELDS = ["clip_id", "name", "layer", "start_time", "source_start", "duration"];
const EXTRAS = ["volume", "fade_in", "fade_out", "fit", "transition", "duck", "text"];
export const MEDIA_LAYERS = ["video", "audio"];
// Which extras a layer carries (timeline/rules.py); the server resets the others to their
// defaults when a segment changes layer, so they are never sent for it.
const LAYER_EXTRAS = {
  video: ["volume", "fade_in", "fade_out", "fit", "transition"],
  audio: ["volume", "fade_in", "fade_out", "duck"],
  text: ["fade_in", "fade_out", "text"],
  caption: ["fade_in", "fade_out", "text"],
};
const DEFAULTS = { volume: 1, fade_in: 0, fade_out: 0, fit: null, transition: null, duck: false, text: null };
const ORDER = { delete: 0, update: 1, create: 2 }; // shrink and remove before anything grows

// Objects (text, transition) are compared by value: they are replaced, never changed in place.
const same = (a, b) => {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) < 1e-6;
  if (a && b && typeof a === "object" && typeof b === "object") return JSON.stringify(a) === JSON.stringify(b);
  return (a ?? null) === (b ?? null);
};

const carries = (seg, name) => FIELDS.includes(name) || (LAYER_EXTRAS[seg.layer] || []).includes(name);

export function fieldsOf(seg) {
  const fields = {};
  for (const name of [...FIELDS, ...EXTRAS]) {
    if (carries(seg, name) && seg[name] !== undefined && seg[name] !== null) fields[name] = seg[name];
  }
  return fields;
}

// Fades and transitions a move or trim made impossible, adapted as the server adapts values a
// request leaves out (timeline/rules.py): fades scaled down to fit, a transition shortened, or
// removed when no video segment ends where this one starts; extras of another layer reset.
export function adaptExtras(segments) {
  for (const s of segments) {
    for (const name of EXTRAS) if (!carries(s, name) && !same(s[name], DEFAULTS[name]) && s[name] !== undefined) s[name] = DEFAULTS[name];
    const fadeIn = s.fade_in || 0;
    const fadeOut = s.fade_out || 0;
    if (fadeIn + fadeOut > s.duration + 1e-9) {
      const scale = s.duration / (fadeIn + fadeOut);
      s.fade_in = Math.floor(fadeIn * scale * 1000) / 1000;
      s.fade_out = Math.floor(fadeOut * scale * 1000) / 1000;
    }
    if (s.layer === "video" && s.transition) {
      const prev = segments.find((o) => o.layer === "video" && o !== s && Math.abs(endOf(o) - s.start_time) < 0.0005);
      const longest = prev ? Math.min(prev.duration, s.duration) : 0;
      if (!prev) s.transition = null;
      else if (s.transition.duration > longest) s.transition = { ...s.transition, duration: longest };
    }
  }
}

// The operations that turn `before` (segments) into `after`.
export function diff(before, after) {
  const old = new Map(before.map((s) => [s.key, s]));
  const ops = [];
  for (const seg of after) {
    const prior = old.get(seg.key);
    old.delete(seg.key);
    if (!prior) {
      ops.push({ kind: "create", key: seg.key, before: null, after: fieldsOf(seg) });
      continue;
    }
    const was = {};
    const now = {};
    for (const name of [...FIELDS, ...EXTRAS]) {
      if (!carries(seg, name)) continue;
      if (!same(prior[name], seg[name])) {
        was[name] = prior[name];
        now[name] = seg[name];
      }
    }
    if (Object.keys(now).length) ops.push({ kind: "update", key: seg.key, before: was, after: now });
  }
  for (const prior of old.values()) ops.push({ kind: "delete", key: prior.key, before: fieldsOf(prior), after: null });
  return ops.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
}

const invert = (op) => ({ kind: op.kind === "create" ? "delete" : op.kind === "delete" ? "create" : "update", key: op.key, before: op.after, after: op.before });

export class EditorState extends EventTarget {
  constructor(project) {
    super();
    this.project = project;
    this.clips = new Map();
    this.segments = [];
    this.selected = null;
    this.playhead = 0;
    this.undoStack = [];
    this.redoStack = [];
    this.changeSeq = 0;
    this.holding = false;
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

  // How far a segment of the clip may be trimmed out: a still has no end.
  trimLimit(clipId) {
    return isStill(this.clips.get(clipId)) ? Infinity : this.clipDuration(clipId);
  }

  // ---- timeline -------------------------------------------------------------------------
  // The timeline as the server has it with this editor's pending edits on top (autosave.js).
  showSegments(segments) {
    this.segments = segments;
    if (this.selected && !this.segment(this.selected)) this.selected = null;
    this.emit("timeline", { fromServer: true });
  }

  // A drag holds the segments still: incoming changes wait until it ends.
  hold(on) {
    this.holding = on;
    if (!on) this.emit("released");
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
    adaptExtras(this.segments);
    const ops = diff(prior, this.segments);
    if (!ops.length) {
      this.emit("timeline", { live: true });
      return;
    }
    this.undoStack.push(ops);
    if (this.undoStack.length > 200) this.undoStack.shift();
    this.redoStack = [];
    this.changed(ops);
  }

  changed(ops) {
    this.changeSeq += 1;
    if (this.selected && !this.segment(this.selected)) this.selected = null;
    this.emit("timeline", { fromServer: false, ops });
    this.emit("history");
  }

  // Show a live change (during a drag) without recording history or saving.
  preview() {
    this.emit("timeline", { live: true });
  }

  // Apply operations to the segments as they are now; returns what was really done (an
  // update of a segment someone deleted does nothing), with the fields it replaced.
  apply(ops) {
    const done = [];
    for (const op of [...ops].sort((a, b) => ORDER[a.kind] - ORDER[b.kind])) {
      const seg = this.segment(op.key);
      if (op.kind === "create" && !seg) {
        this.segments.push({ key: op.key, ...op.after });
        done.push({ ...op, before: null });
      } else if (op.kind === "delete" && seg) {
        this.segments = this.segments.filter((s) => s !== seg);
        done.push({ ...op, before: fieldsOf(seg) });
      } else if (op.kind === "update" && seg) {
        const was = {};
        for (const name of Object.keys(op.after)) was[name] = seg[name];
        Object.assign(seg, op.after);
        done.push({ ...op, before: was });
      }
    }
    return done;
  }

  // Both stacks hold edits as they were done: undo applies their inverse, redo the edit again.
  undo() {
    return this.step(this.undoStack, (ops) => {
      const done = this.apply(ops.map(invert));
      if (done.length) this.redoStack.push(done.map(invert));
      return done;
    });
  }

  redo() {
    return this.step(this.redoStack, (ops) => {
      const done = this.apply(ops);
      if (done.length) this.undoStack.push(done);
      return done;
    });
  }

  step(stack, run) {
    while (stack.length) {
      const done = run(stack.pop());
      if (!done.length) continue; // someone else already took all of it back
      this.changed(done);
      return true;
    }
    this.emit("history");
    return false;
  }

  select(key) {
    this.selected = key;
    this.emit("selection");
  }

  setPlayhead(seconds, { fromPlayer = false } = {}) {
    this.playhead = Math.max(0, seconds);
    this.emit("playhead", { fromPlayer });
  }
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
