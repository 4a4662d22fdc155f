// The clip library: a card per clip (status, processing progress, actions), uploads into it, and
// files dropped onto it. Adding a clip to the timeline and reloading the timeline after a clip
// with segments is deleted are the editor's business, handed in as callbacks.
import { api, formatBytes, formatTime, h, toast } from "../api.js";
import { explainFailure } from "./export.js";
import { CLIP_MIME } from "./timeline.js";
import { UploadManager } from "./upload.js";

const STATUS_TEXT = { uploading: "Uploading", processing: "Processing", ready: "Ready", failed: "Failed" };

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
    state.addEventListener("clips", () => this.render());
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
        h("button", { type: "button", class: "btn btn-sm", text: "Add to timeline", "aria-label": `Add ${clip.name} to the timeline`, onclick: () => this.onAddToTimeline(clip.id) }),
      );
    }
    if (clip.status === "failed") {
      actions.append(h("button", { type: "button", class: "btn btn-sm", text: "Retry", onclick: () => this.retryClip(clip.id) }));
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

  // What a card shows; signed media links are left out, as a fresh link shows the same picture.
  signature(clip) {
    const { status, name, original_filename, duration, resolution, file_size, error_message } = clip;
    const progress = this.progress.get(clip.id);
    return JSON.stringify([status, name, original_filename, duration, resolution, file_size, error_message, progress, Boolean(clip.thumbnail_url), Boolean(clip.filmstrip_url)]);
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
