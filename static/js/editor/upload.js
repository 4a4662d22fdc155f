// Resumable chunked uploads (API.md "Chunked upload"): one UploadTask per file, a progress bar
// each, pause/resume, and resume after a reload — the upload id and the file's identity are
// remembered in localStorage, so dropping the same file again sends only the missing chunks.
import { api, ApiError, csrfToken, formatBytes, h } from "../api.js";

const PARALLEL = 3;
const MAX_RETRIES = 6;

const fileKey = (file) => `${file.name}|${file.size}|${file.lastModified}`;

class Remembered {
  constructor(projectId) {
    this.key = `clipseq:uploads:${projectId}`;
  }
  all() {
    try {
      return JSON.parse(localStorage.getItem(this.key)) || {};
    } catch {
      return {};
    }
  }
  set(id, value) {
    const all = this.all();
    all[id] = value;
    localStorage.setItem(this.key, JSON.stringify(all));
  }
  remove(id) {
    const all = this.all();
    delete all[id];
    localStorage.setItem(this.key, JSON.stringify(all));
  }
}

async function sha256Hex(buffer) {
  if (!(window.crypto && crypto.subtle)) return null; // not a secure context: the header is optional
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// One chunk over XHR, for upload progress events that fetch() does not give.
function sendChunk(uploadId, index, body, hash, onProgress, registry) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    registry.add(xhr);
    xhr.open("POST", `/api/upload/chunk?upload_id=${encodeURIComponent(uploadId)}&index=${index}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    if (hash) xhr.setRequestHeader("X-Chunk-SHA256", hash);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      registry.delete(xhr);
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {}
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const err = data && data.error;
        const error = new ApiError(xhr.status, err ? err.code : `HTTP_${xhr.status}`, (err && err.message) || "The server refused a piece of the file.", err && err.details);
        error.retryAfter = Number(xhr.getResponseHeader("Retry-After")) || 0;
        reject(error);
      }
    };
    xhr.onerror = () => {
      registry.delete(xhr);
      reject(new ApiError(0, "NETWORK", "The connection dropped."));
    };
    xhr.onabort = () => {
      registry.delete(xhr);
      reject(new DOMException("paused", "AbortError"));
    };
    xhr.send(body);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class UploadTask extends EventTarget {
  constructor(manager, { file = null, remembered = null }) {
    super();
    this.manager = manager;
    this.file = file;
    this.info = remembered; // {uploadId, clipId, name, size, lastModified, chunkSize, totalChunks}
    this.state = file ? "queued" : "waiting-file"; // queued|uploading|paused|finishing|done|error|waiting-file
    this.sentBytes = 0;
    this.inflight = new Map();
    this.xhrs = new Set();
    this.error = "";
    this.node = null;
    this.build();
  }

  get name() {
    return this.file ? this.file.name : this.info.name;
  }

  get size() {
    return this.file ? this.file.size : this.info.size;
  }

  build() {
    this.nameEl = h("span", { class: "name", text: this.name, title: this.name });
    this.pauseBtn = h("button", { type: "button", class: "btn btn-sm btn-ghost", text: "Pause", onclick: () => this.togglePause() });
    this.cancelBtn = h("button", { type: "button", class: "btn-icon", "aria-label": `Cancel upload of ${this.name}`, title: "Cancel upload", text: "×", onclick: () => this.cancel() });
    this.bar = h("div", { class: "bar" });
    this.progressEl = h("div", { class: "progress", role: "progressbar", "aria-label": `Upload of ${this.name}`, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, this.bar);
    this.detailEl = h("span", { class: "detail" });
    this.pickInput = h("input", { type: "file", class: "visually-hidden", accept: "video/*,audio/*,image/png,image/jpeg,image/webp" });
    this.pickInput.addEventListener("change", () => {
      const file = this.pickInput.files[0];
      if (file) this.manager.addFiles([file]);
    });
    this.pickBtn = h("button", { type: "button", class: "btn btn-sm btn-primary", text: "Choose file", onclick: () => this.pickInput.click() });
    this.node = h(
      "div",
      { class: "upload-item", dataset: { upload: this.info ? this.info.uploadId : "" } },
      h("div", { class: "row" }, this.nameEl, this.pauseBtn, this.pickBtn, this.pickInput, this.cancelBtn),
      this.progressEl,
      this.detailEl,
    );
    this.render();
  }

  render() {
    const pct = this.size ? Math.min(100, (this.sentBytes / this.size) * 100) : 0;
    this.bar.style.width = `${pct}%`;
    this.progressEl.setAttribute("aria-valuenow", String(Math.floor(pct)));
    this.progressEl.classList.toggle("is-paused", this.state === "paused" || this.state === "waiting-file");
    this.progressEl.classList.toggle("is-failed", this.state === "error");
    this.progressEl.classList.toggle("is-done", this.state === "done");
    this.node.classList.toggle("is-error", this.state === "error");
    // Retry only where sending again can help (a dropped connection, a busy server), not a
    // file the server refused (too large, over quota, not a video or picture).
    this.pauseBtn.hidden = !["uploading", "paused", "queued", "error"].includes(this.state) || (this.state === "error" && !this.retriable);
    this.pauseBtn.textContent = this.state === "uploading" || this.state === "queued" ? "Pause" : this.state === "error" ? "Retry" : "Resume";
    this.pauseBtn.setAttribute("aria-label", `${this.pauseBtn.textContent} upload of ${this.name}`);
    this.pickBtn.hidden = this.state !== "waiting-file";
    this.cancelBtn.hidden = this.state === "done" || this.state === "finishing";
    const sizes = `${formatBytes(this.sentBytes)} of ${formatBytes(this.size)}`;
    const text = {
      queued: "Waiting…",
      uploading: `${sizes} · ${Math.floor(pct)} %${this.rate ? ` · ${formatBytes(this.rate)}/s` : ""}`,
      paused: `Paused at ${Math.floor(pct)} % — press Resume to continue`,
      finishing: "Putting the pieces together…",
      done: "Uploaded — processing the clip",
      error: this.error,
      "waiting-file": `Interrupted at ${Math.floor(pct)} %. Drop or choose “${this.name}” again to resume.`,
    }[this.state];
    this.detailEl.textContent = text;
  }

  setState(state) {
    this.state = state;
    this.render();
  }

  togglePause() {
    if (this.state === "uploading" || this.state === "queued") this.pause();
    else this.start();
  }

  pause() {
    this.paused = true;
    for (const xhr of this.xhrs) xhr.abort();
    this.setState("paused");
  }

  async cancel() {
    this.paused = true;
    for (const xhr of this.xhrs) xhr.abort();
    if (this.info) {
      try {
        await api("DELETE", `/api/upload/cancel/${this.info.uploadId}`);
      } catch {
        /* already gone */
      }
      this.manager.remembered.remove(this.info.uploadId);
      this.manager.onClipRemoved(this.info.clipId);
    }
    this.manager.removeTask(this);
  }

  attachFile(file) {
    this.file = file;
    if (this.state === "waiting-file") this.setState("queued");
  }

  async start() {
    if (!this.file) return this.setState("waiting-file");
    this.paused = false;
    this.setState("uploading");
    try {
      if (!this.info) await this.create();
      const status = await api("GET", `/api/upload/status/${this.info.uploadId}`);
      if (status.status === "complete" || status.status === "completing") return this.finished();
      if (status.status !== "active") {
        // The server let it go (expired or cancelled): start over with a new upload.
        this.manager.remembered.remove(this.info.uploadId);
        this.info = null;
        return this.start();
      }
      this.info.chunkSize = status.chunk_size;
      this.info.totalChunks = status.total_chunks;
      await this.sendMissing(status.missing_chunks);
      if (this.paused) return;
      await this.complete();
    } catch (error) {
      if (error.name === "AbortError" || this.paused) return;
      if (error.status === 404 && this.info) {
        this.manager.remembered.remove(this.info.uploadId);
        this.info = null;
        return this.start();
      }
      this.retriable = !error.status || error.status === 409 || error.status === 429 || error.status >= 500;
      this.error = `${error.message}${error.status === 0 ? " Press Retry to continue where it stopped." : this.retriable ? "" : " Press × to dismiss."}`;
      this.setState("error");
      this.node.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  async create() {
    const name = this.file.name.replace(/\.[^.]+$/, "") || this.file.name;
    const answer = await api("POST", `/api/projects/${this.manager.projectId}/clips`, {
      json: { name: name.slice(0, 255), filename: this.file.name.slice(0, 255), size: this.file.size },
    });
    this.info = {
      uploadId: answer.upload.id,
      clipId: answer.clip.id,
      name: this.file.name,
      size: this.file.size,
      lastModified: this.file.lastModified,
      fileKey: fileKey(this.file),
      chunkSize: answer.upload.chunk_size,
      totalChunks: answer.upload.total_chunks,
    };
    this.node.dataset.upload = this.info.uploadId;
    this.manager.remembered.set(this.info.uploadId, this.info);
    this.manager.onClip(answer.clip);
  }

  async sendMissing(missing) {
    const { chunkSize, totalChunks } = this.info;
    const missingSet = new Set(missing);
    const chunkLength = (i) => (i === totalChunks - 1 ? this.size - chunkSize * (totalChunks - 1) : chunkSize);
    let done = 0;
    for (let i = 0; i < totalChunks; i++) if (!missingSet.has(i)) done += chunkLength(i);
    this.sentBytes = done;
    this.render();
    const queue = [...missing].sort((a, b) => a - b);
    const started = performance.now();
    let sentThisSession = 0;
    const worker = async () => {
      while (queue.length && !this.paused) {
        const index = queue.shift();
        const blob = this.file.slice(index * chunkSize, index * chunkSize + chunkLength(index));
        const buffer = await blob.arrayBuffer();
        const hash = await sha256Hex(buffer);
        for (let attempt = 0; ; attempt++) {
          try {
            await sendChunk(this.info.uploadId, index, buffer, hash, (loaded) => {
              this.inflight.set(index, loaded);
              this.updateProgress(done, started, sentThisSession);
            }, this.xhrs);
            break;
          } catch (error) {
            this.inflight.delete(index);
            const retriable = error.status === 0 || error.status === 429 || error.status >= 500;
            if (error.name === "AbortError" || !retriable || attempt >= MAX_RETRIES) throw error;
            await sleep(error.retryAfter ? error.retryAfter * 1000 : Math.min(15000, 500 * 2 ** attempt));
            if (this.paused) throw new DOMException("paused", "AbortError");
          }
        }
        this.inflight.delete(index);
        done += buffer.byteLength;
        sentThisSession += buffer.byteLength;
        this.updateProgress(done, started, sentThisSession);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  }

  updateProgress(done, started, sentThisSession) {
    const inflight = [...this.inflight.values()].reduce((a, b) => a + b, 0);
    this.sentBytes = Math.min(this.size, done + inflight);
    const seconds = (performance.now() - started) / 1000;
    this.rate = seconds > 1 ? (sentThisSession + inflight) / seconds : 0;
    this.render();
  }

  async complete() {
    this.setState("finishing");
    try {
      const clip = await api("POST", "/api/upload/complete", { json: { upload_id: this.info.uploadId } });
      this.manager.onClip(clip);
      this.finished();
    } catch (error) {
      if (error.status === 409 && error.details && Array.isArray(error.details.missing_chunks)) {
        this.setState("uploading");
        await this.sendMissing(error.details.missing_chunks);
        return this.complete();
      }
      throw error;
    }
  }

  finished() {
    this.sentBytes = this.size;
    this.manager.remembered.remove(this.info.uploadId);
    this.setState("done");
    this.manager.refreshClip(this.info.clipId);
    setTimeout(() => this.manager.removeTask(this), 2500);
  }
}

export class UploadManager {
  constructor({ projectId, container, onClip, refreshClip, onClipRemoved }) {
    this.projectId = projectId;
    this.container = container;
    this.onClip = onClip;
    this.refreshClip = refreshClip;
    this.onClipRemoved = onClipRemoved;
    this.remembered = new Remembered(projectId);
    this.tasks = [];
    // Uploads interrupted by a reload wait for their file to be picked again.
    for (const info of Object.values(this.remembered.all())) this.restore(info);
  }

  async restore(info) {
    const task = new UploadTask(this, { remembered: info });
    this.tasks.push(task);
    this.container.append(task.node);
    try {
      const status = await api("GET", `/api/upload/status/${info.uploadId}`);
      if (status.status !== "active") throw new Error("gone");
      task.sentBytes = status.received_bytes;
      task.render();
    } catch {
      this.remembered.remove(info.uploadId);
      this.removeTask(task);
    }
  }

  get busy() {
    return this.tasks.some((t) => ["uploading", "finishing", "queued"].includes(t.state));
  }

  addFiles(files) {
    for (const file of files) {
      if (!file.size) continue;
      const key = fileKey(file);
      const waiting = this.tasks.find((t) => t.info && t.info.fileKey === key && !["done", "uploading", "finishing"].includes(t.state));
      if (waiting) {
        waiting.attachFile(file);
        waiting.start();
        continue;
      }
      if (this.tasks.some((t) => t.file && fileKey(t.file) === key && t.state !== "done")) continue;
      const task = new UploadTask(this, { file });
      this.tasks.push(task);
      this.container.append(task.node);
      task.start();
    }
  }

  removeTask(task) {
    this.tasks = this.tasks.filter((t) => t !== task);
    task.node.remove();
  }
}
