// The preview's sound: every sounding element (a video segment's clip, an audio segment)
// goes through a GainNode of the Web Audio graph whose gain follows the segment's envelope
// (volume x fades x ducking x transition crossfade, as timeline/rules.py says the export
// mixes), summed at the destination. `segmentGain` is pure so it can be tested on its own.
import { endOf, fadeLevel } from "./compositor.js";

export const DUCK_DB = 12;
export const DUCK_GAIN = 10 ** (-DUCK_DB / 20); // 0.251
export const DUCK_RAMP = 0.25;

const num = (value, fallback) => (value === undefined || value === null ? fallback : Number(value));

// Spans [start, end] where the video lane plays sound: video segments whose clip has sound and
// whose volume is above 0, touching spans merged (a cut between two such segments does not
// un-duck).
export function soundingVideoSpans(segments, hasSound) {
  const spans = segments
    .filter((s) => s.layer === "video" && num(s.volume, 1) > 0 && hasSound(s))
    .map((s) => [Number(s.start_time), endOf(s)])
    .sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1] + 0.0015) last[1] = Math.max(last[1], span[1]);
    else merged.push([...span]);
  }
  return merged;
}

// How far ducked (0 none, 1 fully) at t: ramping down over DUCK_RAMP from a span's start and
// back up over DUCK_RAMP from its end, the sum over spans capped at 1 (as the export's aeval).
export function duckDepth(spans, t) {
  const ramp = (x) => Math.max(0, Math.min(1, x / DUCK_RAMP));
  let depth = 0;
  for (const [start, end] of spans) depth += ramp(t - start) - ramp(t - end);
  return Math.max(0, Math.min(1, depth));
}

// The linear gain of one segment's sound at timeline time t. `segments` is the whole timeline
// (for ducking and transitions); `hasSound(seg)` says whether a video segment's clip has sound.
export function segmentGain(seg, t, segments = [], hasSound = () => true) {
  let gain = num(seg.volume, 1) * fadeLevel(seg, t);
  const start = Number(seg.start_time);
  const end = endOf(seg);
  if (seg.layer === "video") {
    // Inside a transition the sound crossfades over the same span as the picture.
    let weight = t >= start - 1e-6 && t < end - 1e-6 ? 1 : 0;
    if (seg.transition) {
      const half = Number(seg.transition.duration) / 2;
      if (t >= start - half && t < start + half) weight = (t - (start - half)) / (2 * half);
    }
    const next = segments.find(
      (s) => s.layer === "video" && s !== seg && s.transition && Math.abs(Number(s.start_time) - end) < 0.0015,
    );
    if (next) {
      const half = Number(next.transition.duration) / 2;
      if (t >= end - half && t < end + half) weight = 1 - (t - (end - half)) / (2 * half);
    }
    // Fades apply to the segment's own sound; beyond its ends (in a transition) it stays faded.
    if (t < start || t >= end) gain = num(seg.volume, 1) * fadeLevel(seg, Math.min(Math.max(t, start), end));
    gain *= Math.max(0, Math.min(1, weight));
  } else if (seg.layer === "audio") {
    if (t < start - 1e-6 || t >= end - 1e-6) return 0;
    if (seg.duck) gain *= 1 - (1 - DUCK_GAIN) * duckDepth(soundingVideoSpans(segments, hasSound), t);
  } else {
    return 0;
  }
  return Math.max(0, gain);
}

// The Web Audio graph. Created on the first play (browsers start audio only after a gesture);
// until then elements play straight to the speakers (they are paused anyway). Only same-origin
// media is routed through it: Web Audio hears silence from a cross-origin element without CORS
// (S3 links), so such an element keeps its own volume (at most 1) instead.
export class Mixer {
  constructor() {
    this.context = null;
    this.nodes = new Map();
    this.muted = false;
  }

  // Call from a user gesture (play).
  start() {
    if (!this.context) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      this.context = new Context();
    }
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  // An element whose sound the mixer controls.
  add(element) {
    if (this.nodes.has(element)) return;
    this.nodes.set(element, null);
  }

  // Route an element through a GainNode, once (an element cannot be un-routed), when its media
  // is from our own origin.
  connect(element) {
    if (this.nodes.get(element) !== null || !this.context) return;
    const src = element.currentSrc || element.src;
    if (!src) return;
    if (new URL(src, window.location.href).origin !== window.location.origin) {
      this.nodes.set(element, false);
      return;
    }
    try {
      const source = this.context.createMediaElementSource(element);
      const gain = this.context.createGain();
      gain.gain.value = 0;
      source.connect(gain).connect(this.context.destination);
      this.nodes.set(element, gain);
    } catch {
      this.nodes.set(element, false); // already routed elsewhere: its own volume is used
    }
  }

  // Set an element's gain (smoothed over ~10 ms so steps do not click).
  setGain(element, value) {
    const level = this.muted ? 0 : Math.max(0, value);
    this.connect(element);
    const node = this.nodes.get(element);
    if (node && this.context) {
      node.gain.setTargetAtTime(level, this.context.currentTime, 0.01);
      element.volume = 1;
    } else {
      element.volume = Math.min(1, level);
    }
  }

  gainOf(element) {
    const node = this.nodes.get(element);
    return node ? node.gain.value : element.volume;
  }
}
