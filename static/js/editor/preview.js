// The transport and the sources of the preview. The picture is drawn on a <canvas> by
// compositor.js, the sound mixed by mixer.js; this module decides, at each tick (playing) or
// playhead move (paused), which <video>/<img> elements show which segment at which source time,
// and keeps time. Video elements come from a small pool: a source keeps its element while it
// is needed, so a transition (two pictures at once) or a cut into an already loaded clip does
// not reload. The element showing the segment under the playhead carries the id
// "preview-video". Media links expire: an element whose source fails is reloaded from a
// freshly fetched clip (media.js).
import { api, formatTime } from "../api.js";
import { Compositor, endOf, snapToFrame, sourceTime, videoAt } from "./compositor.js";
import { MediaLinkKeeper } from "./media.js";
import { Mixer, segmentGain } from "./mixer.js";
import { segmentAt } from "./state.js";

const PLAY_ICON = '<path d="M8 5v14l11-7z"/>';
const PAUSE_ICON = '<path d="M7 5h4v14H7zM13 5h4v14h-4z"/>';
const VIDEO_POOL = 3;
const AUDIO_POOL = 4;
// Seek a hair past a frame's start so the decoder shows that frame, not the one before.
const FRAME_NUDGE = 0.001;
const DEFAULT_FPS = 30;

function parseRate(value) {
  if (!value) return 0;
  const [n, d] = String(value).split("/").map(Number);
  const rate = d ? n / d : n;
  return Number.isFinite(rate) && rate > 0 ? rate : 0;
}

// One media element and what it holds.
class Source {
  constructor(element, pool) {
    this.el = element;
    this.pool = pool;
    this.key = ""; // clip id and proxy/original: links of the same file change on renewal
    this.clipId = null;
    this.seg = null;
    this.used = 0;
    this.el.addEventListener("error", () => pool.renew(this));
    for (const type of ["seeked", "loadeddata"]) this.el.addEventListener(type, () => pool.onFrame());
  }
}

class ElementPool {
  constructor(first, size, { tag, links, state, mixer, onFrame, onRenewed }) {
    this.links = links;
    this.state = state;
    this.mixer = mixer;
    this.onFrame = onFrame;
    this.onRenewed = onRenewed;
    this.sources = [new Source(first, this)];
    for (let i = 1; i < size; i += 1) {
      const el = document.createElement(tag);
      el.preload = "auto";
      el.playsInline = true;
      el.className = first.className;
      el.hidden = first.hidden;
      el.setAttribute("aria-hidden", "true");
      first.after(el);
      this.sources.push(new Source(el, this));
    }
    for (const source of this.sources) mixer.add(source.el);
  }

  renew(source) {
    const clipId = source.clipId;
    if (!clipId || !source.key) return;
    this.links.renew(clipId).then((renewed) => {
      if (!renewed || source.clipId !== clipId) return;
      source.key = "";
      this.onRenewed();
    });
  }

  static keyOf(clip) {
    return `${clip.id}:${clip.proxy_url ? "proxy" : "original"}`;
  }

  // Elements for `wanted` segments (at most the pool's size): a segment keeps its element, then
  // an element already holding the clip, then the least recently used free one.
  assign(wanted, stamp) {
    const taken = new Map();
    const free = new Set(this.sources);
    const pick = (test) => [...free].filter(test).sort((a, b) => a.used - b.used)[0];
    for (const seg of wanted) {
      const clip = this.state.clips.get(seg.clip_id);
      if (!clip) continue;
      const key = ElementPool.keyOf(clip);
      const source = pick((s) => s.seg && s.seg.key === seg.key && s.key === key) || pick((s) => s.key === key) || pick(() => true);
      if (!source) break;
      free.delete(source);
      if (source.key !== key) {
        source.key = key;
        source.clipId = clip.id;
        source.el.src = clip.proxy_url || `/api/clips/${clip.id}/download`;
      }
      source.seg = seg;
      source.used = stamp;
      taken.set(seg.key, source);
    }
    for (const source of free) {
      source.seg = null;
      if (!source.el.paused) source.el.pause();
      this.mixer.setGain(source.el, 0);
    }
    return taken;
  }
}

export class Player {
  constructor(state) {
    this.state = state;
    this.links = new MediaLinkKeeper(state);
    this.mixer = new Mixer();
    const redraw = () => this.requestDraw();
    const renewed = () => this.playing || this.showFrame();
    const common = { links: this.links, state, mixer: this.mixer, onFrame: redraw, onRenewed: renewed };
    this.videos = new ElementPool(document.getElementById("preview-video"), VIDEO_POOL, { tag: "video", ...common });
    this.audios = new ElementPool(document.getElementById("preview-audio"), AUDIO_POOL, { tag: "video", ...common });
    this.stills = new Map();
    this.canvas = document.getElementById("preview-canvas");
    this.viewer = this.canvas.parentElement;
    this.compositor = new Compositor(this.canvas);
    this.fonts = new Map();
    this.fontList = null;
    this.button = document.getElementById("play");
    this.icon = document.getElementById("play-icon");
    this.now = document.getElementById("time-now");
    this.total = document.getElementById("time-total");
    this.empty = document.getElementById("viewer-empty");
    this.playing = false;
    this.lastTick = 0;
    this.stamp = 0;
    this.drawQueued = false;
    this.assigned = { video: new Map(), audio: new Map() };
    this.button.addEventListener("click", () => this.toggle());
    document.getElementById("to-start").addEventListener("click", () => this.seek(0));
    document.getElementById("to-end").addEventListener("click", () => this.seek(this.state.duration));
    state.addEventListener("playhead", (e) => {
      if (!(e.detail && e.detail.fromPlayer)) this.showFrame();
      this.renderTime();
    });
    state.addEventListener("timeline", () => {
      this.renderTime();
      if (!this.playing) this.showFrame();
    });
    state.addEventListener("clips", () => {
      this.renderTime();
      if (!this.playing) this.showFrame();
    });
    new ResizeObserver(() => this.layout()).observe(this.viewer);
    this.layout();
    this.renderTime();
  }

  // The segments with every field, as the compositor and the mixer read them.
  segments() {
    const fit = (this.state.project.settings && this.state.project.settings.fit) || "blur";
    const idOf = (key) => (this.state.serverIdOf && this.state.serverIdOf(key)) || key;
    return this.state.segments.map((seg) => ({ ...seg, fit: seg.fit || fit, id: idOf(seg.key) }));
  }

  get shape() {
    return (this.state.project.settings && this.state.project.settings.canvas) || "16:9";
  }

  // The project's frame rate, as the export takes it: the first video segment's clip's.
  get fps() {
    const first = [...this.state.segments].filter((s) => s.layer === "video").sort((a, b) => a.start_time - b.start_time)[0];
    const meta = first && this.state.clips.get(first.clip_id) ? this.state.clips.get(first.clip_id).metadata || {} : {};
    return parseRate(meta.r_frame_rate) || parseRate(meta.avg_frame_rate) || Number(meta.fps) || DEFAULT_FPS;
  }

  // Fit the canvas, in the project's shape, into the viewer.
  layout() {
    const box = this.viewer.getBoundingClientRect();
    const inset = 16;
    const [w, h] = { "16:9": [16, 9], "9:16": [9, 16], "1:1": [1, 1], "4:5": [4, 5] }[this.shape] || [16, 9];
    const availW = Math.max(1, box.width - 2 * inset);
    const availH = Math.max(1, box.height - 2 * inset);
    const scale = Math.min(availW / w, availH / h);
    this.canvas.style.width = `${Math.floor(w * scale)}px`;
    this.canvas.style.height = `${Math.floor(h * scale)}px`;
    const short = Math.min(w, h) * scale * (window.devicePixelRatio || 1);
    this.compositor.resize(this.shape, short);
    this.canvas.dataset.canvas = this.shape;
    this.requestDraw();
  }

  renderTime() {
    this.now.textContent = formatTime(this.state.playhead, { precise: true });
    this.total.textContent = formatTime(this.state.duration, { precise: true });
    this.empty.hidden = this.state.segments.length > 0;
    this.viewer.classList.toggle("is-empty", !this.state.segments.length);
  }

  // ---- fonts ---------------------------------------------------------------------------------
  // Fonts are loaded with the FontFace API from our own origin (font-src 'self') the first time
  // a text uses them; the frame is drawn again once they are in.
  fontReady(id) {
    if (this.fonts.get(id) === "ready") return true;
    if (this.fonts.has(id)) return false;
    this.fonts.set(id, "loading");
    this.loadFont(id).then(
      () => {
        this.fonts.set(id, "ready");
        this.requestDraw();
      },
      () => this.fonts.set(id, "ready"), // unknown or broken: drawn in the fallback face
    );
    return false;
  }

  async loadFont(id) {
    if (!this.fontList) this.fontList = api("GET", "/api/fonts");
    const fonts = await this.fontList;
    const font = (Array.isArray(fonts) ? fonts : fonts.results || []).find((f) => f.id === id);
    if (!font) throw new Error(`unknown font ${id}`);
    const face = new FontFace(id, `url("${font.url}")`);
    document.fonts.add(await face.load());
  }

  // ---- frames --------------------------------------------------------------------------------
  stillFor(clip) {
    let image = this.stills.get(clip.id);
    const url = clip.proxy_url || clip.thumbnail_url;
    if (!image || image.dataset.url !== url) {
      image = new Image();
      image.dataset.url = url || "";
      image.addEventListener("load", () => this.requestDraw());
      image.addEventListener("error", () => this.links.renew(clip.id));
      if (url) image.src = url;
      this.stills.set(clip.id, image);
    }
    return image;
  }

  isStill(seg) {
    const clip = this.state.clips.get(seg.clip_id);
    return Boolean(clip && clip.duration == null && clip.status === "ready");
  }

  // What the compositor draws for a segment at t: its element, once it shows the frame.
  frameFor(seg, t) {
    const clip = this.state.clips.get(seg.clip_id);
    if (!clip) return null;
    if (this.isStill(seg)) {
      const image = this.stillFor(clip);
      return image.complete && image.naturalWidth ? { image, width: image.naturalWidth, height: image.naturalHeight } : null;
    }
    const source = this.assigned.video.get(seg.key);
    if (!source) return null;
    const el = source.el;
    if (el.readyState < 2 || !el.videoWidth) return null;
    if (!this.playing && (el.seeking || Math.abs(el.currentTime - this.targetTime(seg, t, clip)) > 0.02)) {
      this.frameExact = false;
    }
    return { image: el, width: el.videoWidth, height: el.videoHeight };
  }

  targetTime(seg, t, clip) {
    const duration = clip && clip.duration != null ? Number(clip.duration) : null;
    return sourceTime(seg, t, duration) + (this.playing ? 0 : FRAME_NUDGE);
  }

  // Put every element where time t needs it (paused: exactly, playing: within 0.25 s), set the
  // gains, then draw.
  sync(t, playing) {
    const segments = this.segments();
    this.stamp += 1;
    const shown = videoAt(segments, t);
    const pictures = shown ? (shown.seg ? [shown.seg] : [shown.to, shown.from]) : [];
    const videos = pictures.filter((s) => !this.isStill(s));
    const sounding = segments.filter((s) => s.layer === "audio" && s.start_time <= t + 1e-6 && t < endOf(s) - 1e-6);
    this.assigned.video = this.videos.assign(videos, this.stamp);
    this.assigned.audio = this.audios.assign(sounding, this.stamp);
    const hasSound = (seg) => {
      const clip = this.state.clips.get(seg.clip_id);
      const meta = (clip && clip.metadata) || {};
      return Boolean(clip && clip.duration != null && meta.has_audio !== false && clip.has_audio !== false);
    };
    // The element of the segment under the playhead is #preview-video (tests and tools read it).
    const main = segmentAt(this.state.segments, t, "video");
    const mainSource = main && this.assigned.video.get(main.key);
    if (mainSource && mainSource.el.id !== "preview-video") {
      const old = document.getElementById("preview-video");
      if (old) old.removeAttribute("id");
      mainSource.el.id = "preview-video";
    }
    for (const [layer, assigned] of Object.entries(this.assigned)) {
      for (const source of assigned.values()) {
        const seg = source.seg;
        const clip = this.state.clips.get(seg.clip_id);
        const wanted = this.targetTime(seg, t, clip);
        const el = source.el;
        const drift = Math.abs(el.currentTime - wanted);
        // Before a source's first frame (inside a transition) its first frame is held.
        const holding = Number(seg.source_start) + (t - Number(seg.start_time)) < 0;
        if (!playing || drift > 0.25 || holding) {
          if (drift > (playing ? 0.04 : 0.0005)) el.currentTime = wanted;
        }
        const play = playing && !holding && (layer === "audio" || el.readyState >= 1);
        if (play && el.paused) el.play().catch(() => {});
        if (!play && !el.paused) el.pause();
        this.mixer.setGain(el, segmentGain(seg, t, segments, hasSound));
      }
    }
    this.drawn = { segments, t };
    this.draw();
  }

  requestDraw() {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      if (!this.playing) this.draw();
    });
  }

  draw() {
    if (this.compositor.shape !== this.shape) this.layout(); // the project's canvas changed
    const { segments, t } = this.drawn || { segments: this.segments(), t: this.state.playhead };
    let fontsReady = true;
    for (const seg of segments) {
      if (seg.text && seg.text.font && !this.fontReady(seg.text.font)) fontsReady = false;
    }
    this.frameExact = true;
    const complete = this.compositor.draw(segments, t, this);
    // For tests and tools: which time the canvas shows and whether that frame is final.
    this.canvas.dataset.time = t.toFixed(3);
    this.canvas.dataset.ready = String(complete && fontsReady && this.frameExact);
  }

  showFrame() {
    const t = snapToFrame(this.state.playhead, this.fps);
    this.sync(t, false);
  }

  seek(t) {
    this.state.setPlayhead(Math.min(Math.max(0, t), Math.max(this.state.duration, 0)));
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (!this.state.segments.length) return;
    this.mixer.start();
    if (this.state.playhead >= this.state.duration - 0.02) this.state.setPlayhead(0);
    this.playing = true;
    this.lastTick = performance.now();
    this.icon.innerHTML = PAUSE_ICON;
    this.button.setAttribute("aria-label", "Pause (Space)");
    requestAnimationFrame((ts) => this.tick(ts));
  }

  pause() {
    this.playing = false;
    for (const pool of [this.videos, this.audios]) for (const source of pool.sources) if (!source.el.paused) source.el.pause();
    this.icon.innerHTML = PLAY_ICON;
    this.button.setAttribute("aria-label", "Play (Space)");
    this.showFrame();
  }

  // Timeline time as the element under the playhead reports it, when it is playing.
  clockTime() {
    const main = segmentAt(this.state.segments, this.state.playhead, "video");
    const source = main && this.assigned.video.get(main.key);
    if (!source) return { t: null, waiting: false };
    const el = source.el;
    if (el.paused || el.seeking || el.readyState < 3) return { t: null, waiting: el.seeking || el.readyState < 3, seg: main };
    return { t: main.start_time + (el.currentTime - main.source_start), waiting: false, seg: main };
  }

  tick(now) {
    if (!this.playing) return;
    const dt = Math.min(0.25, (now - this.lastTick) / 1000);
    this.lastTick = now;
    // The video element is the clock while it plays a segment; otherwise wall time.
    const clock = this.clockTime();
    let t = clock.t;
    if (t === null || t < this.state.playhead - 0.3 || t > this.state.playhead + 0.5) {
      t = clock.waiting ? this.state.playhead : this.state.playhead + dt;
    }
    const seg = clock.seg;
    if (seg && t >= endOf(seg) - 0.005) t = Math.max(t, endOf(seg) + 0.0005);
    if (t >= this.state.duration) {
      this.state.setPlayhead(this.state.duration, { fromPlayer: true });
      this.pause();
      return;
    }
    this.state.setPlayhead(t, { fromPlayer: true });
    this.sync(t, true);
    requestAnimationFrame((ts) => this.tick(ts));
  }
}
