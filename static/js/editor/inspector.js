// The segment inspector: sound, fades, fit and transition of video/audio segments; content and
// style of text and caption segments. Every change is one `state.commit` (a slider drag or a
// burst of typing is one undo step); the server validates on save and its refusals show here.
import { api, h } from "../api.js";
import { endOf } from "./state.js";

const TRANSITIONS = [
  ["", "None"],
  ["crossfade", "Crossfade"],
  ["dip_to_black", "Dip to black"],
  ["dip_to_white", "Dip to white"],
  ["wipe", "Wipe"],
  ["slide", "Slide"],
];
const FITS = [
  ["fit", "Fit (bars)"],
  ["fill", "Fill (crop)"],
  ["blur", "Blurred fill"],
];
const TYPING_DELAY = 600;
const round3 = (v) => Math.round(v * 1000) / 1000;
const LAYER_NAMES = { video: "Video segment", audio: "Audio segment", text: "Text", caption: "Caption" };

let fontsPromise = null;
export function loadFonts() {
  fontsPromise ||= api("GET", "/api/fonts").catch(() => []);
  return fontsPromise;
}

// The video segment that ends exactly where `seg` starts (a transition's other side).
export function previousVideo(segments, seg) {
  return segments.find((s) => s.layer === "video" && s.key !== seg.key && Math.abs(endOf(s) - seg.start_time) < 0.0005) || null;
}

export class Inspector {
  constructor(state) {
    this.state = state;
    this.root = document.getElementById("inspector");
    this.body = document.getElementById("inspector-body");
    this.title = document.getElementById("inspector-title");
    this.errorBox = document.getElementById("inspector-error");
    this.shownKey = undefined;
    this.shownLayer = null;
    this.controls = [];
    this.pending = null; // {before, timer} of a live edit not yet committed
    this.lastVolume = new Map();
    loadFonts().then((fonts) => {
      this.fonts = fonts;
      if (this.shownKey) this.build();
    });
    state.addEventListener("selection", () => this.refresh());
    state.addEventListener("timeline", (e) => {
      if (e.detail && e.detail.live) return;
      this.refresh();
    });
    this.watchErrors();
    this.refresh();
  }

  get seg() {
    return this.state.segment(this.state.selected);
  }

  refresh() {
    const seg = this.seg;
    if (!seg || seg.key !== this.shownKey || seg.layer !== this.shownLayer) {
      this.flush();
      this.build();
    } else {
      this.sync();
    }
  }

  // ---- editing -----------------------------------------------------------------------------
  // A live change shown at once and committed later as one step (slider drags, typing).
  live(apply, { delay = null } = {}) {
    const seg = this.seg;
    if (!seg) return;
    if (!this.pending) this.pending = { before: this.state.snapshot(), timer: null };
    apply(seg);
    this.state.preview();
    clearTimeout(this.pending.timer);
    if (delay != null) this.pending.timer = setTimeout(() => this.flush(), delay);
  }

  flush() {
    if (!this.pending) return;
    const { before, timer } = this.pending;
    clearTimeout(timer);
    this.pending = null;
    this.state.commit(() => {}, { before });
  }

  // One undoable change now (selects, checkboxes, numbers).
  edit(apply) {
    const seg = this.seg;
    if (!seg) return;
    const problem = this.check(seg, apply);
    if (problem) return this.showError(problem);
    this.showError(null);
    if (this.pending) {
      apply(seg);
      this.flush();
      return;
    }
    const key = seg.key;
    this.state.commit((segments) => {
      apply(segments.find((s) => s.key === key));
    });
  }

  // What the server would refuse, said before sending (its own message shows otherwise).
  check(seg, apply) {
    const trial = { ...seg };
    apply(trial);
    if (trial.fade_in < 0 || trial.fade_out < 0) return "Fades cannot be negative.";
    if (trial.fade_in + trial.fade_out > trial.duration + 1e-6)
      return `Fade in and fade out together must fit in the segment (${trial.duration.toFixed(2)} s).`;
    if (trial.transition) {
      const prev = previousVideo(this.state.segments, trial);
      if (!prev) return "A transition needs a video segment that ends exactly where this one starts.";
      const limit = Math.min(prev.duration, trial.duration);
      if (!(trial.transition.duration > 0) || trial.transition.duration > limit + 1e-6)
        return `The transition must be longer than 0 s and at most ${limit.toFixed(2)} s (the shorter of the two segments).`;
    }
    if (trial.text) {
      if (trial.layer === "caption" && !trial.text.content.trim()) return "A caption needs some text.";
      if (!(trial.text.size >= 8 && trial.text.size <= 1080)) return "Text size must be from 8 to 1080.";
      if (!(trial.text.x >= 0 && trial.text.x <= 1 && trial.text.y >= 0 && trial.text.y <= 1)) return "Position must be from 0 to 100 %.";
    }
    if (trial.duration < 0.1) return "A segment lasts at least 0.1 s.";
    return null;
  }

  showError(message) {
    this.errorBox.hidden = !message;
    this.errorBox.textContent = message || "";
  }

  // The autosave reports a refused save as an error toast: repeat it next to the fields.
  watchErrors() {
    const seen = (node) => {
      if (node.classList && node.classList.contains("toast-error")) this.showError(node.textContent.replace(/×$/, "").trim());
    };
    const observer = new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) seen(node);
    });
    // api.js creates the toast host with the first toast, which may be this very error.
    const attach = () => {
      const host = document.getElementById("toasts");
      if (!host) return false;
      observer.observe(host, { childList: true });
      for (const node of host.children) seen(node);
      return true;
    };
    if (attach()) return;
    const waiting = new MutationObserver(() => attach() && waiting.disconnect());
    waiting.observe(document.body, { childList: true });
  }

  // ---- building the form -------------------------------------------------------------------
  build() {
    const seg = this.seg;
    this.shownKey = seg ? seg.key : null;
    this.shownLayer = seg ? seg.layer : null;
    this.controls = [];
    this.showError(null);
    this.root.classList.toggle("is-empty", !seg);
    if (!seg) {
      this.title.textContent = "Inspector";
      this.body.replaceChildren(h("p", { class: "muted inspector-empty", text: "Select a segment on the timeline to set its sound, fades, fit, transition or text." }));
      return;
    }
    this.title.textContent = LAYER_NAMES[seg.layer] || "Segment";
    const parts = [];
    if (seg.layer === "text" || seg.layer === "caption") parts.push(...this.textFields(seg), this.timingFields());
    if (seg.layer === "video" || seg.layer === "audio") parts.push(this.soundFields(seg));
    parts.push(this.fadeFields());
    if (seg.layer === "video") parts.push(this.pictureFields());
    this.body.replaceChildren(...parts);
    this.sync();
  }

  // Put the segment's values into the controls (not into the one being edited).
  sync() {
    const seg = this.seg;
    if (!seg) return;
    for (const control of this.controls) if (document.activeElement !== control.el || control.always) control.read(seg);
  }

  control(el, read, { always = false } = {}) {
    this.controls.push({ el, read, always });
    return el;
  }

  group(title, ...rows) {
    // Viewers and commenters (collab.js marks main as read-only) see the values, cannot edit.
    const readOnly = document.getElementById("main")?.classList.contains("read-only");
    return h("fieldset", { class: "insp-group", disabled: readOnly }, h("legend", { text: title }), ...rows);
  }

  row(label, id, ...inputs) {
    return h("div", { class: "insp-row" }, h("label", { for: id, text: label }), h("div", { class: "insp-inputs" }, ...inputs));
  }

  number(id, { min, max, step, onValue, read, label }) {
    const el = h("input", { type: "number", id, min, max, step, inputmode: "decimal", "aria-label": label || null });
    el.addEventListener("change", () => {
      const value = Number(el.value);
      if (el.value === "" || !Number.isFinite(value)) return this.sync();
      onValue(value);
    });
    el.addEventListener("keydown", (e) => {
      if (e.key === "Enter") el.blur();
    });
    return this.control(el, (seg) => (el.value = String(read(seg))));
  }

  soundFields(seg) {
    const range = h("input", { type: "range", id: "insp-volume", min: 0, max: 200, step: 1, "aria-label": "Volume (%)" });
    const setVolume = (s, pct) => {
      s.volume = round3(Math.min(200, Math.max(0, pct)) / 100);
    };
    range.addEventListener("input", () => {
      this.live((s) => setVolume(s, Number(range.value)));
      num.value = range.value;
    });
    range.addEventListener("change", () => this.flush());
    this.control(range, (s) => (range.value = String(Math.round(s.volume * 100))), { always: false });
    const num = this.number("insp-volume-num", { min: 0, max: 200, step: 1, label: "Volume in percent", read: (s) => Math.round(s.volume * 100), onValue: (v) => this.edit((s) => setVolume(s, v)) });
    const mute = h("input", { type: "checkbox", id: "insp-mute" });
    mute.addEventListener("change", () => {
      const key = this.seg.key;
      if (mute.checked) {
        this.lastVolume.set(key, this.seg.volume || 1);
        this.edit((s) => (s.volume = 0));
      } else {
        this.edit((s) => (s.volume = this.lastVolume.get(key) || 1));
      }
    });
    this.control(mute, (s) => (mute.checked = s.volume === 0), { always: true });
    const rows = [
      this.row("Volume", "insp-volume", range, num, h("span", { class: "unit", text: "%" })),
      h("label", { class: "check insp-check" }, mute, " Mute"),
    ];
    if (seg.layer === "audio") {
      const duck = h("input", { type: "checkbox", id: "insp-duck" });
      duck.addEventListener("change", () => this.edit((s) => (s.duck = duck.checked)));
      this.control(duck, (s) => (duck.checked = s.duck), { always: true });
      rows.push(h("label", { class: "check insp-check", title: "Lowered by 12 dB wherever a video segment's sound plays" }, duck, " Duck under the video's sound"));
    }
    return this.group("Sound", ...rows);
  }

  fadeFields() {
    const fadeIn = this.number("insp-fade-in", { min: 0, step: 0.1, read: (s) => s.fade_in, onValue: (v) => this.edit((s) => (s.fade_in = round3(v))) });
    const fadeOut = this.number("insp-fade-out", { min: 0, step: 0.1, read: (s) => s.fade_out, onValue: (v) => this.edit((s) => (s.fade_out = round3(v))) });
    return this.group(
      "Fades",
      this.row("Fade in", "insp-fade-in", fadeIn, h("span", { class: "unit", text: "s" })),
      this.row("Fade out", "insp-fade-out", fadeOut, h("span", { class: "unit", text: "s" })),
    );
  }

  pictureFields() {
    const projectFit = (this.state.project.settings && this.state.project.settings.fit) || "blur";
    const fit = h("select", { id: "insp-fit" }, FITS.map(([value, label]) => h("option", { value, text: value === projectFit ? `${label} — project default` : label })));
    fit.addEventListener("change", () => this.edit((s) => (s.fit = fit.value)));
    this.control(fit, (s) => (fit.value = s.fit || projectFit));

    const type = h("select", { id: "insp-transition" }, TRANSITIONS.map(([value, label]) => h("option", { value, text: label })));
    const duration = this.number("insp-transition-duration", {
      min: 0.05,
      step: 0.1,
      label: "Transition duration in seconds",
      read: (s) => (s.transition ? s.transition.duration : 0.5),
      onValue: (v) => {
        if (this.seg.transition) this.edit((s) => (s.transition = { type: s.transition.type, duration: round3(v) }));
      },
    });
    const note = h("p", { class: "help", id: "insp-transition-note" });
    type.addEventListener("change", () => {
      const wanted = Number(duration.value) > 0 ? Number(duration.value) : 0.5;
      this.edit((s) => (s.transition = type.value ? { type: type.value, duration: round3(wanted) } : null));
    });
    this.control(type, (s) => {
      const prev = previousVideo(this.state.segments, s);
      // A transition left without a previous segment is not saved (state.js payload).
      type.value = s.transition && prev ? s.transition.type : "";
      type.disabled = !prev;
      duration.disabled = !s.transition || !prev;
      note.textContent = prev ? "From the previous segment, centred on the cut." : "Place this segment right after another video segment to add a transition.";
    }, { always: true });
    return this.group(
      "Picture",
      this.row("Fit", "insp-fit", fit),
      this.row("Transition in", "insp-transition", type),
      this.row("Duration", "insp-transition-duration", duration, h("span", { class: "unit", text: "s" })),
      note,
    );
  }

  textFields(seg) {
    const setText = (s, patch) => (s.text = { ...s.text, ...patch });
    const content = h("textarea", { id: "insp-content", rows: 3, maxlength: 1000, placeholder: seg.layer === "caption" ? "Caption text" : "Title text" });
    content.addEventListener("input", () => this.live((s) => setText(s, { content: content.value }), { delay: TYPING_DELAY }));
    content.addEventListener("blur", () => this.flush());
    this.control(content, (s) => (content.value = s.text ? s.text.content : ""));

    const font = h("select", { id: "insp-font" }, (this.fonts || []).map((f) => h("option", { value: f.id, text: f.name })));
    if (!this.fonts && seg.text) font.append(h("option", { value: seg.text.font, text: seg.text.font }));
    font.addEventListener("change", () => this.edit((s) => setText(s, { font: font.value })));
    this.control(font, (s) => (font.value = s.text.font));

    const size = this.number("insp-size", { min: 8, max: 1080, step: 1, read: (s) => s.text.size, onValue: (v) => this.edit((s) => setText(s, { size: v })) });

    // <input type=color> has no alpha: keep the colour's own opacity (the caption box's B3).
    const alpha = (value) => (value && value.length === 9 ? value.slice(7) : "");
    const color = h("input", { type: "color", id: "insp-color" });
    color.addEventListener("input", () => this.live((s) => setText(s, { color: color.value.toUpperCase() + alpha(s.text.color) })));
    color.addEventListener("change", () => this.flush());
    this.control(color, (s) => (color.value = s.text.color.slice(0, 7).toLowerCase()));

    const bgOn = h("input", { type: "checkbox", id: "insp-bg-on" });
    const bg = h("input", { type: "color", id: "insp-bg", "aria-label": "Background colour" });
    bgOn.addEventListener("change", () => this.edit((s) => setText(s, { background: bgOn.checked ? `${bg.value.toUpperCase()}B3` : null })));
    bg.addEventListener("input", () => {
      if (!this.seg.text.background) return;
      this.live((s) => setText(s, { background: bg.value.toUpperCase() + alpha(s.text.background) }));
    });
    bg.addEventListener("change", () => this.flush());
    this.control(bgOn, (s) => {
      bgOn.checked = Boolean(s.text.background);
      bg.disabled = !s.text.background;
    }, { always: true });
    this.control(bg, (s) => (bg.value = (s.text.background || "#000000").slice(0, 7).toLowerCase()));

    const align = h("div", { class: "segmented", role: "radiogroup", "aria-label": "Alignment", id: "insp-align" });
    for (const value of ["left", "center", "right"]) {
      const input = h("input", { type: "radio", name: "insp-align", value, id: `insp-align-${value}` });
      input.addEventListener("change", () => input.checked && this.edit((s) => setText(s, { align: value })));
      this.control(input, (s) => (input.checked = s.text.align === value), { always: true });
      align.append(h("label", { for: `insp-align-${value}` }, input, h("span", { text: value[0].toUpperCase() + value.slice(1) })));
    }

    const pct = (key) =>
      this.number(`insp-${key}`, { min: 0, max: 100, step: 1, read: (s) => Math.round(s.text[key] * 1000) / 10, onValue: (v) => this.edit((s) => setText(s, { [key]: round3(v / 100) })) });

    return [
      this.group(
        seg.layer === "caption" ? "Caption" : "Text",
        h("div", { class: "insp-row insp-stack" }, h("label", { for: "insp-content", text: "Content" }), content),
        this.row("Font", "insp-font", font),
        this.row("Size", "insp-size", size, h("span", { class: "unit", text: "px" })),
        this.row("Colour", "insp-color", color),
        this.row("Box", "insp-bg-on", bgOn, bg),
        h("div", { class: "insp-row" }, h("span", { class: "insp-label", text: "Align" }), align),
        this.row("X", "insp-x", pct("x"), h("span", { class: "unit", text: "%" })),
        this.row("Y", "insp-y", pct("y"), h("span", { class: "unit", text: "%" })),
      ),
    ];
  }

  timingFields() {
    const start = this.number("insp-start", { min: 0, step: 0.1, read: (s) => s.start_time, onValue: (v) => this.edit((s) => (s.start_time = round3(Math.max(0, v)))) });
    const length = this.number("insp-duration", { min: 0.1, step: 0.1, read: (s) => s.duration, onValue: (v) => this.edit((s) => (s.duration = round3(v))) });
    return this.group(
      "Timing",
      this.row("Start", "insp-start", start, h("span", { class: "unit", text: "s" })),
      this.row("Duration", "insp-duration", length, h("span", { class: "unit", text: "s" })),
    );
  }
}
