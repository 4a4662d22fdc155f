// The clip library: a card per clip (status, processing progress, actions), uploads into it, and
// files dropped onto it. Adding a clip to the timeline and reloading the timeline after a clip
// with segments is deleted are the editor's business, handed in as callbacks.
import { api, formatBytes, formatTime, h, toast } from "../api.js";
import { explainFailure } from "./export.js";
import { hasSound, isStill } from "./state.js";
import { CLIP_MIME } from "./timeline.js";
import { UploadManager } from "./upload.js";

const STATUS_TEXT = { uploading: "Uploading", processing: "Processing", ready: "Ready", failed: "Failed" };
const SOUND_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 9v6h4l5 4V5L8 9z"/><path d="M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12"/></svg>';
const MUTED_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 9v6h4l5 4V5L8 9z"/><path d="M16 9l6 6M22 9l-6 6"/></svg>';
// Failures whose original file was deleted: processing it again cannot help.
const FILE_GONE_CODES = ["INVALID_FILE_FORMAT", "VIRUS_DETECTED"];

const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");

export class Library {
  constructor({ state, projectId, onAddToTimeline, onClipDeletedWithSegments }) {
    this.state = state;
    this.onAddToTimeline = onAddToTimeline;
    this.onClipDeletedWithSegments = onClipDeletedWithSegments;
    this.clipList = document.getElementById("clip-list");
    this.dropzone = document.getElementById("dropzone");
    this.element = document.getElementById("library");
    this.progress = new Map();
    this.uploads = new UploadManager({
      projectId,
      container: document.getElementById("uploads"),
      onClip: (clip) => state.setClip(clip),
      refreshClip: (clipId) => this.refreshClip(clipId),
      onClipRemoved: (clipId) => state.removeClip(clipId),
    });
    this.statuses = new Map();
    state.addEventListener("clips", () => this.render());
    state.addEventListener("clips", () => this.revealFailures());
    this.listenForFiles();
  }

  listenForFiles() {
    const fileInput = document.getElementById("file-input");
    fileInput.addEventListener("change", () => {
      this.uploads.addFiles([...fileInput.files]);
      fileInput.value = "";
      this.render();
    });
    let dragDepth = 0;
    const library = this.element;
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
      this.uploads.addFiles([...event.dataTransfer.files]);
      this.render();
    });
    // A file dropped anywhere else must not navigate away from the editor.
    window.addEventListener("dragover", (event) => hasFiles(event) && event.preventDefault());
    window.addEventListener("drop", (event) => hasFiles(event) && event.preventDefault());
  }

  card(clip) {
    const ready = clip.status === "ready";
    const thumb = h("div", { class: "clip-thumb" });
    if (clip.thumbnail_url) thumb.style.backgroundImage = `url("${encodeURI(clip.thumbnail_url)}")`;
    else thumb.append(h("span", { class: clip.status === "failed" ? "thumb-failed" : "spinner", "aria-hidden": "true" }));
    if (clip.duration != null) thumb.append(h("span", { class: "duration", text: formatTime(clip.duration) }));
    const progress = this.progress.get(clip.id);
    const status = STATUS_TEXT[clip.status] || clip.status;
    const meta = h(
      "div",
      { class: "meta" },
      h("span", { class: `badge badge-${clip.status}`, text: progress != null && clip.status === "processing" ? `${status} ${progress} %` : status }),
      ready && isStill(clip) ? h("span", { class: "badge badge-still", text: "Still image", title: "A picture: place it on the timeline for as long as it should show" }) : null,
      ready ? this.soundIndicator(clip) : null,
      clip.resolution ? h("span", { text: clip.resolution }) : null,
      clip.file_size ? h("span", { text: formatBytes(clip.file_size) }) : null,
    );
    const name = h("span", { class: "name", text: clip.name, title: `${clip.original_filename || clip.name} — double-click to rename` });
    name.addEventListener("dblclick", () => this.startRename(clip, name));
    const info = h("div", { class: "clip-info" }, name, meta);
    if (clip.status === "failed") {
      const explained = this.canRetry(clip) ? explainFailure({ error_message: clip.error_message, job_type: "ingest" }, clip.name) : clip.error_message || "This file could not be used.";
      info.append(h("span", { class: "error", text: explained, title: explained }));
    }
    const actions = h("div", { class: "actions" });
    if (ready) {
      actions.append(
        h("button", { type: "button", class: "btn btn-sm", text: "Add to timeline", "aria-label": `Add ${clip.name} to the timeline`, onclick: () => this.onAddToTimeline(clip.id) }),
      );
    }
    if (clip.status === "failed" && this.canRetry(clip)) {
      actions.append(h("button", { type: "button", class: "btn btn-sm", text: "Retry", "aria-label": `Retry processing ${clip.name}`, onclick: () => this.retryClip(clip.id) }));
    } else if (clip.status === "failed") {
      actions.append(h("button", { type: "button", class: "btn btn-sm", text: "Upload another file", onclick: () => document.getElementById("file-input").click() }));
    }
    if (clip.status !== "uploading") {
      actions.append(h("button", { type: "button", class: "btn-icon", "aria-label": `Rename clip ${clip.name}`, title: "Rename", text: "✎", onclick: () => this.startRename(clip, name) }));
    }
    if (clip.status !== "uploading") {
      actions.append(h("button", { type: "button", class: "btn-icon", "aria-label": `Delete clip ${clip.name}`, title: "Delete clip", text: "×", onclick: () => this.deleteClip(clip) }));
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

  soundIndicator(clip) {
    const sound = hasSound(clip);
    const label = sound ? "Has sound" : "No sound";
    const node = h("span", { class: `sound-indicator ${sound ? "has-sound" : "no-sound"}`, role: "img", "aria-label": label, title: label });
    node.innerHTML = sound ? SOUND_ICON : MUTED_ICON;
    return node;
  }

  // Processing again helps only when the original is still stored (not when it was refused).
  canRetry(clip) {
    const code = clip.metadata && clip.metadata.error_code;
    return clip.file_size != null && !FILE_GONE_CODES.includes(code);
  }

  // The name becomes a text field: Enter or leaving it saves, Escape puts the name back.
  startRename(clip, nameNode) {
    if (!nameNode.isConnected) return;
    const input = h("input", { type: "text", class: "rename-input", value: clip.name, maxlength: "255", "aria-label": `New name for ${clip.name}` });
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const name = input.value.trim();
      input.replaceWith(nameNode);
      if (!save || !name || name === clip.name) return;
      nameNode.textContent = name;
      try {
        this.state.setClip(await api("PATCH", `/api/clips/${clip.id}`, { json: { name } }));
      } catch (error) {
        nameNode.textContent = clip.name;
        toast(`The clip could not be renamed: ${error.message}`, { level: "error" });
      }
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") finish(true);
      else if (event.key === "Escape") finish(false);
      else return;
      event.preventDefault();
      event.stopPropagation();
    });
    input.addEventListener("blur", () => finish(true));
    nameNode.replaceWith(input);
    input.focus();
    input.select();
  }

  // A clip that just failed is scrolled into view, so its reason is not lost off-screen.
  revealFailures() {
    for (const clip of this.state.clips.values()) {
      const before = this.statuses.get(clip.id);
      this.statuses.set(clip.id, clip.status);
      if (clip.status !== "failed" || before === undefined || before === "failed") continue;
      const card = this.clipList.querySelector(`[data-clip="${CSS.escape(clip.id)}"]`);
      if (card) card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  // What a card shows; signed media links are left out, as a fresh link shows the same picture.
  signature(clip) {
    const { status, name, original_filename, duration, resolution, file_size, error_message } = clip;
    const progress = this.progress.get(clip.id);
    const facts = [isStill(clip), hasSound(clip), clip.metadata && clip.metadata.error_code];
    return JSON.stringify([status, name, original_filename, duration, resolution, file_size, error_message, progress, Boolean(clip.thumbnail_url), Boolean(clip.filmstrip_url), ...facts]);
  }

  render() {
    const clips = [...this.state.clips.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
    // Cards whose content did not change stay the same nodes: a progress message must not
    // replace the card someone is dragging (the drag would end without a drop).
    const existing = new Map([...this.clipList.children].map((node) => [node.dataset.clip, node]));
    const wanted = clips.map((clip) => {
      const signature = this.signature(clip);
      const node = existing.get(clip.id);
      if (node && (node.dataset.signature === signature || node.classList.contains("is-dragging"))) return node;
      const card = this.card(clip);
      card.dataset.signature = signature;
      return card;
    });
    wanted.forEach((node, index) => {
      if (this.clipList.children[index] !== node) this.clipList.insertBefore(node, this.clipList.children[index] || null);
    });
    while (this.clipList.children.length > wanted.length) this.clipList.lastElementChild.remove();
    const empty = clips.length === 0 && !this.uploads.tasks.length;
    this.dropzone.classList.toggle("compact", !empty);
    this.dropzone.replaceChildren(
      h("strong", { text: empty ? "Start by adding your clips" : "Drop more files here" }),
      empty ? "Drag video files here or press “Add clips”. Big files upload in pieces and resume if interrupted." : "or press “Add clips”.",
    );
  }

  // A job's progress on a clip (from the live socket), shown on its card until it finishes.
  showProgress(clipId, percent) {
    this.progress.set(clipId, Math.floor(percent || 0));
    const clip = this.state.clips.get(clipId);
    if (clip.status === "uploading") clip.status = "processing";
    this.render();
  }

  jobFinished(clipId) {
    this.progress.delete(clipId);
    this.refreshClip(clipId);
  }

  // Clips still processing, asked for afresh (when the live socket is down or reconnects).
  pollProcessing() {
    for (const clip of this.state.clips.values()) if (clip.status === "processing") this.refreshClip(clip.id);
  }

  async refreshClip(clipId) {
    try {
      this.state.setClip(await api("GET", `/api/clips/${clipId}`));
    } catch (error) {
      if (error.status === 404) this.state.removeClip(clipId);
    }
  }

  async retryClip(clipId) {
    try {
      await api("POST", `/api/clips/${clipId}/retry`);
      await this.refreshClip(clipId);
    } catch (error) {
      toast(error.message, { level: "error" });
    }
  }

  async deleteClip(clip) {
    const used = this.state.segments.filter((s) => s.clip_id === clip.id).length;
    const warning = used ? ` It is used by ${used} segment(s) on the timeline, which will be removed too.` : "";
    if (!window.confirm(`Delete “${clip.name}” from the library?${warning}`)) return;
    try {
      await api("DELETE", `/api/clips/${clip.id}`);
      this.state.removeClip(clip.id);
      if (used) await this.onClipDeletedWithSegments();
    } catch (error) {
      toast(error.message, { level: "error" });
    }
  }
}
