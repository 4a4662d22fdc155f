// Plays the timeline in sequence from the clips' proxies: one <video> for the video lane that
// switches source at segment boundaries (seeking to source_start + offset), one hidden element
// for the audio lane, and a clock that carries the playhead across gaps. Media links expire:
// an element whose source fails is reloaded from a freshly fetched clip (media.js).
import { formatTime, h } from "../api.js";
import { MediaLinkKeeper } from "./media.js";
import { endOf, isStill, segmentAt } from "./state.js";

const PLAY_ICON = '<path d="M8 5v14l11-7z"/>';
const PAUSE_ICON = '<path d="M7 5h4v14H7zM13 5h4v14h-4z"/>';

class Track {
  constructor(element, layer, state, links) {
    this.el = element;
    this.layer = layer;
    this.state = state;
    this.links = links;
    this.seg = null;
    this.src = "";
    // What is loaded: the clip and whether from its proxy. Links of the same file change on
    // every renewal; the element reloads only for another file or after a failure.
    this.source = "";
    this.onRenewed = null;
    this.el.addEventListener("error", () => this.renewSource());
  }

  sourceFor(seg) {
    const clip = this.state.clips.get(seg.clip_id);
    if (!clip) return "";
    return clip.proxy_url || `/api/clips/${clip.id}/download`;
  }

  sourceKey(seg) {
    const clip = this.state.clips.get(seg.clip_id);
    return clip ? `${clip.id}:${clip.proxy_url ? "proxy" : "original"}` : "";
  }

  // The element's link failed (most likely it expired): fetch the clip again, then reload.
  renewSource() {
    const seg = this.seg;
    if (!seg || !this.src) return;
    this.links.renew(seg.clip_id).then((renewed) => {
      if (!renewed || !this.seg || this.seg.clip_id !== seg.clip_id) return;
      this.source = "";
      if (this.onRenewed) this.onRenewed();
    });
  }

  // The picture a still image's segment shows for its whole length, over the video element.
  showStill(seg) {
    const clip = this.state.clips.get(seg.clip_id);
    if (!this.stillEl) {
      this.stillEl = h("img", { class: "preview-still", alt: "", hidden: true });
      this.stillEl.addEventListener("error", () => this.renewSource());
      this.el.after(this.stillEl);
    }
    const source = `${clip.id}:still`;
    if (source !== this.source) {
      this.source = source;
      this.src = clip.proxy_url || clip.thumbnail_url || `/api/clips/${clip.id}/download`;
      this.stillEl.src = this.src;
    }
    this.stillEl.alt = clip.name;
    this.stillEl.hidden = false;
    this.seg = seg;
    if (!this.el.paused) this.el.pause();
    return seg;
  }

  get showingStill() {
    return Boolean(this.stillEl && !this.stillEl.hidden);
  }

  // Show the frame (or play the sound) for timeline time t.
  sync(t, playing) {
    const seg = segmentAt(this.state.segments, t, this.layer);
    if (seg && isStill(this.state.clips.get(seg.clip_id))) return this.showStill(seg);
    if (this.stillEl) this.stillEl.hidden = true;
    if (!seg) {
      this.seg = null;
      if (!this.el.paused) this.el.pause();
      return null;
    }
    const source = this.sourceKey(seg);
    const wanted = seg.source_start + (t - seg.start_time);
    if (source !== this.source) {
      this.source = source;
      this.src = this.sourceFor(seg);
      this.el.src = this.src;
      this.seg = seg;
      this.el.currentTime = wanted;
    } else if (this.seg !== seg || !playing || Math.abs(this.el.currentTime - wanted) > 0.25) {
      this.seg = seg;
      if (Math.abs(this.el.currentTime - wanted) > 0.04) this.el.currentTime = wanted;
    }
    if (playing && this.el.paused) this.el.play().catch(() => {});
    if (!playing && !this.el.paused) this.el.pause();
    return seg;
  }

  // Timeline time as the element reports it, when it is playing the segment at hand.
  clockTime() {
    const seg = this.seg;
    if (!seg || this.el.paused || this.el.seeking || this.el.readyState < 3) return null;
    return seg.start_time + (this.el.currentTime - seg.source_start);
  }

  stop() {
    if (!this.el.paused) this.el.pause();
  }
}

export class Player {
  constructor(state) {
    this.state = state;
    this.links = new MediaLinkKeeper(state);
    this.video = new Track(document.getElementById("preview-video"), "video", state, this.links);
    this.audio = new Track(document.getElementById("preview-audio"), "audio", state, this.links);
    for (const track of [this.video, this.audio]) {
      // A playing timeline reloads on its next tick; a paused one shows its frame again.
      track.onRenewed = () => this.playing || this.showFrame();
    }
    this.button = document.getElementById("play");
    this.icon = document.getElementById("play-icon");
    this.now = document.getElementById("time-now");
    this.total = document.getElementById("time-total");
    this.empty = document.getElementById("viewer-empty");
    this.playing = false;
    this.lastTick = 0;
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
    state.addEventListener("clips", () => this.renderTime());
    this.renderTime();
  }

  renderTime() {
    this.now.textContent = formatTime(this.state.playhead, { precise: true });
    this.total.textContent = formatTime(this.state.duration, { precise: true });
    this.empty.hidden = this.state.segments.length > 0;
    this.empty.parentElement.classList.toggle("is-empty", !this.state.segments.length);
  }

  showFrame() {
    this.video.sync(this.state.playhead, false);
    this.audio.sync(this.state.playhead, false);
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
    if (this.state.playhead >= this.state.duration - 0.02) this.state.setPlayhead(0);
    this.playing = true;
    this.lastTick = performance.now();
    this.icon.innerHTML = PAUSE_ICON;
    this.button.setAttribute("aria-label", "Pause (Space)");
    requestAnimationFrame((ts) => this.tick(ts));
  }

  pause() {
    this.playing = false;
    this.video.stop();
    this.audio.stop();
    this.icon.innerHTML = PLAY_ICON;
    this.button.setAttribute("aria-label", "Play (Space)");
  }

  tick(now) {
    if (!this.playing) return;
    const dt = Math.min(0.25, (now - this.lastTick) / 1000);
    this.lastTick = now;
    // The video element is the clock while it plays a segment; otherwise wall time.
    let t = this.video.clockTime();
    if (t === null || t < this.state.playhead - 0.3 || t > this.state.playhead + 0.5) {
      const waiting = this.video.seg && !this.video.showingStill && (this.video.el.seeking || this.video.el.readyState < 3);
      t = waiting ? this.state.playhead : this.state.playhead + dt;
    }
    const seg = this.video.seg;
    if (seg && t >= endOf(seg) - 0.005) t = endOf(seg) + 0.0005;
    if (t >= this.state.duration) {
      this.state.setPlayhead(this.state.duration, { fromPlayer: true });
      this.pause();
      return;
    }
    this.state.setPlayhead(t, { fromPlayer: true });
    this.video.sync(t, true);
    this.audio.sync(t, true);
    requestAnimationFrame((ts) => this.tick(ts));
  }
}
