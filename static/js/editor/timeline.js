// The timeline view: ruler, video and audio lanes, segments with trim handles, the playhead;
// pointer and keyboard editing with snapping; drops from the clip library.
import { formatTime, h, toast } from "../api.js";
import { STILL_SECONDS, endOf, fitInGaps, hasSound, isStill, newKey, trimIn, trimOut } from "./state.js";

const SNAP_PX = 8;
const STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800];
export const CLIP_MIME = "application/x-clipseq-clip";

// ---- text and caption lanes (issue 14): no clip, any length, moved only between themselves.
const TEXT_LAYERS = ["text", "caption"];
export const textual = (seg) => TEXT_LAYERS.includes(seg.layer);
const EMPTY_LANE = {
  video: "Drag a clip here (or use “Add to timeline”) to start your video",
  audio: "Optional: drag a clip here to add its sound under the video",
  text: "Titles: use “Add text” to place one at the playhead",
  caption: "Captions: “Import captions” reads an .srt or .vtt file",
};

export class TimelineView {
  constructor(state, { onSeek }) {
    this.state = state;
    this.onSeek = onSeek;
    this.scroll = document.getElementById("timeline-scroll");
    this.content = document.getElementById("timeline-content");
    this.ruler = document.getElementById("ruler");
    this.lanes = { video: document.getElementById("lane-video"), audio: document.getElementById("lane-audio") };
    for (const layer of TEXT_LAYERS) {
      const lane = document.getElementById(`lane-${layer}`);
      if (lane) this.lanes[layer] = lane;
    }
    this.playheadEl = document.getElementById("playhead");
    this.zoomInput = document.getElementById("zoom");
    this.snapButton = document.getElementById("snap");
    this.snapping = true;
    this.pps = 80;
    this.setZoom(Number(this.zoomInput.value));
    this.snapLine = h("div", { class: "snap-line", hidden: true });
    this.content.append(this.snapLine);
    this.bind();
    state.addEventListener("timeline", () => this.render());
    state.addEventListener("clips", () => this.render());
    state.addEventListener("selection", () => this.renderSelection());
    state.addEventListener("playhead", (e) => this.renderPlayhead(e.detail && e.detail.fromPlayer));
    new ResizeObserver(() => this.render()).observe(this.scroll);
  }

  // ---- zoom --------------------------------------------------------------------------------
  setZoom(value) {
    this.zoomInput.value = String(Math.max(0, Math.min(100, value)));
    const anchor = this.state.playhead;
    const before = anchor * this.pps - this.scroll.scrollLeft;
    this.pps = 8 * 2 ** ((Number(this.zoomInput.value) / 100) * 7.6);
    this.render();
    this.scroll.scrollLeft = Math.max(0, anchor * this.pps - before);
  }

  zoomBy(step) {
    this.setZoom(Number(this.zoomInput.value) + step);
  }

  fit() {
    const duration = Math.max(this.state.duration, 5);
    const wanted = (this.scroll.clientWidth - 40) / duration;
    this.setZoom((Math.log2(Math.max(wanted, 8) / 8) / 7.6) * 100);
    this.scroll.scrollLeft = 0;
  }

  timeAt(clientX) {
    const rect = this.content.getBoundingClientRect();
    return Math.max(0, (clientX - rect.left) / this.pps);
  }

  // ---- snapping ----------------------------------------------------------------------------
  snapTargets(excludeKey) {
    const targets = [0, this.state.playhead];
    for (const s of this.state.segments) {
      if (s.key === excludeKey) continue;
      targets.push(s.start_time, endOf(s));
    }
    return targets;
  }

  // The smallest shift that puts one of `edges` on a snap target, or 0.
  snapShift(edges, excludeKey) {
    this.snapLine.hidden = true;
    if (!this.snapping) return 0;
    const limit = SNAP_PX / this.pps;
    let best = null;
    let at = 0;
    for (const target of this.snapTargets(excludeKey)) {
      for (const edge of edges) {
        const shift = target - edge;
        if (Math.abs(shift) <= limit && (best === null || Math.abs(shift) < Math.abs(best))) {
          best = shift;
          at = target;
        }
      }
    }
    if (best === null) return 0;
    this.snapLine.hidden = false;
    this.snapLine.style.left = `${at * this.pps}px`;
    return best;
  }

  // ---- rendering ---------------------------------------------------------------------------
  render() {
    const { state } = this;
    // Someone else's edit re-renders the lanes: the segment this user is on keeps the focus.
    const focused = this.content.contains(document.activeElement) ? document.activeElement.closest(".segment") : null;
    const visible = Math.max(this.scroll.clientWidth, 200);
    const width = Math.max(visible, (state.duration + 15) * this.pps);
    this.content.style.width = `${width}px`;
    this.renderRuler(width);
    for (const layer of Object.keys(this.lanes)) {
      const lane = this.lanes[layer];
      const segments = state.segments.filter((s) => s.layer === layer).sort((a, b) => a.start_time - b.start_time);
      const nodes = segments.map((s) => this.segmentNode(s));
      if (!segments.length) {
        nodes.push(
          h("div", {
            class: "lane-empty",
            text: EMPTY_LANE[layer],
          }),
        );
      }
      lane.replaceChildren(...nodes);
    }
    this.renderPlayhead();
    if (focused && !focused.isConnected) this.content.querySelector(`.segment[data-key="${CSS.escape(focused.dataset.key)}"]`)?.focus({ preventScroll: true });
    if (this.afterRender) this.afterRender(); // presence marks follow zoom and new nodes
  }

  renderRuler(width) {
    const seconds = width / this.pps;
    const major = STEPS.find((step) => step * this.pps >= 70) || 3600;
    const minor = major / 5;
    const ticks = [];
    const showMinor = minor * this.pps >= 8;
    for (let t = 0; t <= seconds; t += showMinor ? minor : major) {
      const isMajor = Math.abs(t / major - Math.round(t / major)) < 1e-6;
      const tick = h("div", { class: `tick${isMajor ? " major" : ""}`, style: { left: `${t * this.pps}px` } });
      if (isMajor) tick.append(h("span", { text: formatTime(Math.round(t * 10) / 10, { precise: major < 1 }) }));
      ticks.push(tick);
    }
    this.ruler.replaceChildren(...ticks);
  }

  segmentNode(seg) {
    const clip = this.state.clips.get(seg.clip_id);
    const clipDuration = this.state.clipDuration(seg.clip_id) || seg.duration;
    const name = (seg.text && seg.text.content.split("\n")[0]) || seg.name || (clip && clip.name) || "Clip";
    const node = h(
      "div",
      {
        class: `segment ${seg.layer}${seg.key === this.state.selected ? " is-selected" : ""}`,
        tabindex: "0",
        role: "option",
        "aria-selected": seg.key === this.state.selected ? "true" : "false",
        "aria-label": `${name}, ${seg.layer} lane, from ${formatTime(seg.start_time, { precise: true })} to ${formatTime(endOf(seg), { precise: true })}`,
        dataset: { key: seg.key },
        style: { left: `${seg.start_time * this.pps}px`, width: `${Math.max(seg.duration * this.pps, 4)}px` },
      },
      h("div", { class: "handle in", dataset: { edge: "in" }, title: "Drag to trim the start" }),
      h("span", { class: "seg-label", text: name }),
      h("span", { class: "seg-dur", text: `${seg.duration.toFixed(2)} s` }),
      h("div", { class: "handle out", dataset: { edge: "out" }, title: "Drag to trim the end" }),
    );
    // The filmstrip covers the whole clip; show the trimmed window of it.
    const strip = clip && (seg.layer === "audio" ? clip.waveform_url : clip.filmstrip_url || clip.thumbnail_url);
    if (strip) {
      node.style.backgroundImage = `url("${encodeURI(strip)}")`;
      if (seg.layer === "audio" ? clip.waveform_url : clip.filmstrip_url) {
        node.style.backgroundSize = `${clipDuration * this.pps}px 100%`;
        node.style.backgroundRepeat = "no-repeat";
        node.style.backgroundPosition = `${-seg.source_start * this.pps}px 0`;
      } else {
        node.style.backgroundSize = "auto 100%";
        node.style.backgroundRepeat = "repeat-x";
      }
    }
    return node;
  }

  renderSelection() {
    for (const node of this.content.querySelectorAll(".segment")) {
      const on = node.dataset.key === this.state.selected;
      node.classList.toggle("is-selected", on);
      node.setAttribute("aria-selected", on ? "true" : "false");
    }
  }

  renderPlayhead(follow = false) {
    const x = this.state.playhead * this.pps;
    this.playheadEl.style.left = `${x}px`;
    if (follow) {
      const { scrollLeft, clientWidth } = this.scroll;
      if (x > scrollLeft + clientWidth - 40 || x < scrollLeft) this.scroll.scrollLeft = Math.max(0, x - 80);
    }
  }

  focusSegment(key) {
    const node = this.content.querySelector(`.segment[data-key="${CSS.escape(key)}"]`);
    if (node) node.focus({ preventScroll: false });
  }

  // ---- editing -----------------------------------------------------------------------------
  addClip(clipId, { layer = "video", at = null } = {}) {
    const clip = this.state.clips.get(clipId);
    const duration = isStill(clip) ? STILL_SECONDS : this.state.clipDuration(clipId);
    if (!clip || clip.status !== "ready" || !duration) return null;
    if (layer === "audio" && !hasSound(clip)) {
      const what = isStill(clip) ? "is a still image and has no sound" : "has no sound";
      toast(`“${clip.name}” ${what}, so it cannot go on the audio lane. Put it on the video lane instead.`, { level: "error", id: "audio-lane" });
      return null;
    }
    const laneEnd = this.state.segments.filter((s) => s.layer === layer).reduce((m, s) => Math.max(m, endOf(s)), 0);
    let desired = at === null ? laneEnd : at;
    desired += this.snapShift([desired, desired + duration], null);
    this.snapLine.hidden = true;
    const start = fitInGaps(this.state.segments, { layer, duration, desired });
    const seg = { key: newKey(), clip_id: clipId, name: clip.name, layer, start_time: start, source_start: 0, duration };
    this.state.commit((segments) => {
      segments.push(seg);
    });
    this.state.select(seg.key);
    return seg;
  }

  nudge(seg, delta) {
    const before = this.state.snapshot();
    const start = fitInGaps(this.state.segments, { layer: seg.layer, duration: seg.duration, desired: seg.start_time + delta, ignoreKey: seg.key });
    if (Math.abs(start - seg.start_time) < 1e-6) return;
    seg.start_time = start;
    this.state.commit(() => {}, { before });
    this.focusSegment(seg.key);
  }

  bind() {
    this.zoomInput.addEventListener("input", () => this.setZoom(Number(this.zoomInput.value)));
    document.getElementById("zoom-in").addEventListener("click", () => this.zoomBy(10));
    document.getElementById("zoom-out").addEventListener("click", () => this.zoomBy(-10));
    document.getElementById("zoom-fit").addEventListener("click", () => this.fit());
    this.snapButton.addEventListener("click", () => {
      this.snapping = !this.snapping;
      this.snapButton.setAttribute("aria-pressed", String(this.snapping));
    });
    this.scroll.addEventListener(
      "wheel",
      (event) => {
        if (!event.ctrlKey && !event.metaKey) return;
        event.preventDefault();
        this.zoomBy(event.deltaY < 0 ? 5 : -5);
      },
      { passive: false },
    );

    // Scrub on the ruler or on an empty part of a lane.
    this.content.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      const segNode = event.target.closest(".segment");
      if (segNode) return this.startSegmentDrag(event, segNode);
      this.state.select(null);
      this.startScrub(event);
    });

    this.content.addEventListener("focusin", (event) => {
      const segNode = event.target.closest(".segment");
      if (segNode && segNode.dataset.key !== this.state.selected) this.state.select(segNode.dataset.key);
    });

    this.content.addEventListener("keydown", (event) => {
      const segNode = event.target.closest(".segment");
      if (!segNode) return;
      const seg = this.state.segment(segNode.dataset.key);
      if (!seg) return;
      const step = event.shiftKey ? 1 : 0.1;
      if (event.key === "ArrowLeft") this.nudge(seg, -step);
      else if (event.key === "ArrowRight") this.nudge(seg, step);
      else if (event.key === "Enter") this.onSeek(seg.start_time);
      else return;
      event.preventDefault();
      event.stopPropagation();
    });

    // Drops from the clip library (HTML drag and drop).
    for (const [layer, lane] of Object.entries(this.lanes)) {
      if (textual({ layer })) continue; // clips do not go on the text lanes
      lane.addEventListener("dragover", (event) => {
        if (!event.dataTransfer.types.includes(CLIP_MIME)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        lane.classList.add("is-droptarget");
      });
      lane.addEventListener("dragleave", () => lane.classList.remove("is-droptarget"));
      lane.addEventListener("drop", (event) => {
        lane.classList.remove("is-droptarget");
        const clipId = event.dataTransfer.getData(CLIP_MIME);
        if (!clipId) return;
        event.preventDefault();
        const seg = this.addClip(clipId, { layer, at: this.timeAt(event.clientX) });
        if (seg) this.focusSegment(seg.key);
      });
    }
  }

  startScrub(event) {
    const move = (e) => this.onSeek(this.timeAt(e.clientX));
    move(event);
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
    };
    // On window: re-renders replace nodes under the pointer during a drag.
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  startSegmentDrag(event, segNode) {
    const seg = this.state.segment(segNode.dataset.key);
    if (!seg) return;
    event.preventDefault();
    segNode.focus({ preventScroll: true });
    this.state.select(seg.key);
    // Others' edits arriving mid-drag wait: they would replace the segment being dragged.
    this.state.hold(true);
    const edge = event.target.dataset.edge || null;
    const before = this.state.snapshot();
    const original = { ...seg };
    const clipDuration = textual(seg) ? Infinity : this.state.trimLimit(seg.clip_id) || seg.duration;
    const startX = event.clientX;
    let moved = false;

    const move = (e) => {
      const dt = (e.clientX - startX) / this.pps;
      if (!moved && Math.abs(e.clientX - startX) < 3 && !edge) return;
      moved = true;
      Object.assign(seg, original);
      if (edge === "in") {
        let t = original.start_time + dt;
        t += this.snapShift([t], seg.key);
        trimIn(this.state.segments, seg, t, clipDuration);
      } else if (edge === "out") {
        let t = endOf(original) + dt;
        t += this.snapShift([t], seg.key);
        trimOut(this.state.segments, seg, t, clipDuration);
      } else {
        // Dragging over the other lane moves the segment there.
        const laneUnder = this.laneAt(e.clientY);
        if (laneUnder && textual({ layer: laneUnder }) === textual(seg) && (laneUnder !== "audio" || hasSound(this.state.clips.get(seg.clip_id)))) seg.layer = laneUnder;
        let desired = original.start_time + dt;
        desired += this.snapShift([desired, desired + seg.duration], seg.key);
        seg.start_time = fitInGaps(this.state.segments, { layer: seg.layer, duration: seg.duration, desired, ignoreKey: seg.key });
      }
      this.state.preview();
      const node = this.content.querySelector(`.segment[data-key="${CSS.escape(seg.key)}"]`);
      if (node) node.classList.add("is-dragging");
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      this.snapLine.hidden = true;
      const same = ["start_time", "source_start", "duration", "layer"].every((f) => seg[f] === original[f]);
      if (moved && !same) this.state.commit(() => {}, { before });
      else this.render();
      this.state.hold(false);
      this.focusSegment(seg.key);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  }

  laneAt(clientY) {
    for (const [layer, lane] of Object.entries(this.lanes)) {
      const rect = lane.getBoundingClientRect();
      if (clientY >= rect.top && clientY <= rect.bottom) return layer;
    }
    return null;
  }
}
