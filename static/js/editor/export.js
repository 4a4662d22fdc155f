// The export dialog (presets, live progress, download link) and the jobs panel.
import { api, formatBytes, formatTime, h, toast } from "../api.js";

// Download links point at the API, which redirects to a link issued at that moment: the
// job's own download_url expires (MEDIA_URL_TTL) while the dialog may stay open for hours.
const downloadHref = (job) => `/api/process/export/${job.id}/download`;

const JOB_TITLES = {
  probe: "Reading the clip",
  thumbnail: "Making thumbnails",
  transcode: "Preparing the preview",
  normalize_audio: "Levelling the sound",
  extract: "Cutting a piece",
  export: "Exporting the video",
  ingest: "Processing the upload",
  scan: "Checking the file",
};

// Failures in plain words: what happened (the server's sentence) and what to do next.
export function explainFailure(job, clipName) {
  const raw = (job.error_message || "").trim();
  const subject = clipName ? `“${clipName}”` : "this clip";
  const lower = raw.toLowerCase();
  let what = raw;
  let todo;
  if (lower.includes("virus") || lower.includes("malware")) todo = "Delete it and upload a clean copy.";
  else if (lower.includes("format") || lower.includes("codec") || lower.includes("invalid data") || lower.includes("not a video"))
    todo = "Convert it to MP4 (H.264 video, AAC sound) and upload it again.";
  else if (lower.includes("timeout") || lower.includes("took too long")) todo = "Try again, or export at a lower quality.";
  else if (lower.includes("cancel")) todo = "";
  else if (job.job_type === "export") {
    what = what || "The export did not finish.";
    todo = "Check that every clip on the timeline is ready, then export again.";
  } else {
    what = what || `Processing ${subject} failed.`;
    todo = "Retry it, or delete the clip and upload it again.";
  }
  if (what && !/[.!?]$/.test(what)) what += ".";
  return [what, todo].filter(Boolean).join(" ");
}

// The dialog's choices, remembered per project in this browser.
const REMEMBERED = ["preset", "format", "loudness", "captions"];
const choicesKey = (projectId) => `clipseq:export-choices:${projectId}`;

export class ExportPanel {
  constructor({ state, projectId, onSaveNow }) {
    this.state = state;
    this.projectId = projectId;
    this.onSaveNow = onSaveNow;
    this.dialog = document.getElementById("export-dialog");
    this.form = document.getElementById("export-form");
    this.statusBox = document.getElementById("export-status");
    this.stateText = document.getElementById("export-state");
    this.pctText = document.getElementById("export-pct");
    this.progress = document.getElementById("export-progress");
    this.result = document.getElementById("export-result");
    this.info = document.getElementById("export-info");
    this.download = document.getElementById("export-download");
    this.startBtn = document.getElementById("export-start");
    this.job = null;
    this.pollTimer = null;
    document.getElementById("open-export").addEventListener("click", () => this.open());
    this.startBtn.addEventListener("click", () => this.start());
    this.form.addEventListener("change", () => this.rememberChoices());
    this.restoreChoices();
  }

  // The checked value of each remembered radio group (a group this page does not have is skipped).
  choices() {
    const values = {};
    for (const name of REMEMBERED) {
      const field = this.form.elements[name];
      if (field) values[name] = field.value;
    }
    return values;
  }

  rememberChoices() {
    try {
      localStorage.setItem(choicesKey(this.projectId), JSON.stringify(this.choices()));
    } catch {
      /* storage full or blocked: the dialog simply starts from its defaults */
    }
  }

  restoreChoices() {
    let saved;
    try {
      saved = JSON.parse(localStorage.getItem(choicesKey(this.projectId)) || "{}");
    } catch {
      return;
    }
    for (const name of REMEMBERED) {
      const field = this.form.elements[name];
      const value = saved && saved[name];
      if (!field || typeof value !== "string") continue;
      // Only a value the dialog still offers (a preset may have been renamed since).
      const options = field instanceof RadioNodeList ? [...field] : [field];
      if (options.some((option) => option.value === value)) field.value = value;
    }
  }

  open() {
    const duration = this.state.duration;
    const count = this.state.segments.length;
    document.getElementById("export-summary").textContent = count
      ? `${count} segment${count === 1 ? "" : "s"}, ${formatTime(duration, { precise: true })} long.`
      : "The timeline is empty. Add clips to the video lane before exporting.";
    this.startBtn.disabled = !count || (this.job && ["pending", "running"].includes(this.job.status));
    this.dialog.showModal();
  }

  async start() {
    this.startBtn.disabled = true;
    const { preset, format, loudness, captions } = this.choices();
    const body = { preset, format };
    if (loudness) body.loudness_target = Number(loudness);
    if (captions) body.captions = captions;
    this.rememberChoices();
    this.showStatus({ status: "pending", progress: 0 });
    try {
      await this.onSaveNow(); // export what the user sees
      const job = await api("POST", `/api/projects/${this.projectId}/export`, { json: body });
      this.job = job;
      this.showStatus(job);
      this.poll();
    } catch (error) {
      this.showStatus({ status: "failed", progress: 0, error_message: error.message, job_type: "export", notStarted: true });
      this.startBtn.disabled = false;
    }
  }

  // Polling backs up the websocket: a missed event never leaves the bar stuck.
  poll() {
    clearTimeout(this.pollTimer);
    if (!this.job || !["pending", "running"].includes(this.job.status)) return;
    this.pollTimer = setTimeout(async () => {
      try {
        const job = await api("GET", `/api/process/status/${this.job.id}`);
        if (job.status !== this.job.status || job.progress >= (this.job.progress || 0)) this.update(job);
      } catch {
        /* try again */
      }
      this.poll();
    }, 2500);
  }

  // A websocket event or a polled job.
  update(data) {
    if (!this.job || data.id !== this.job.id) return;
    const merged = { ...this.job, ...data };
    if (data.status !== "completed" && merged.progress < this.job.progress) merged.progress = this.job.progress;
    this.job = merged;
    this.showStatus(merged);
    if (merged.status === "completed" && !(merged.output_data && merged.output_data.download_url)) {
      api("GET", `/api/process/status/${merged.id}`).then((job) => {
        this.job = job;
        this.showStatus(job);
      });
    }
    if (["completed", "failed", "cancelled"].includes(merged.status)) {
      clearTimeout(this.pollTimer);
      this.startBtn.disabled = false;
      this.startBtn.textContent = "Export again";
      if (merged.status === "completed" && !this.dialog.open) toast("Your export is ready.", { level: "success", actions: [{ label: "Open", run: () => this.open() }], timeout: 0 });
    }
  }

  onSocket(message) {
    if (!this.job || message.job_id !== this.job.id) return;
    const data = { id: message.job_id, status: message.status, progress: message.progress };
    if (message.type === "processing:completed") {
      data.status = "completed";
      data.progress = 100;
      if (message.output_data) data.output_data = message.output_data;
    } else if (message.type === "processing:failed") {
      data.status = "failed";
      data.error_message = message.error_message;
    }
    for (const key of Object.keys(data)) if (data[key] === undefined) delete data[key];
    this.update(data);
  }

  showStatus(job) {
    this.statusBox.hidden = false;
    const pct = job.status === "completed" ? 100 : Math.max(0, Math.min(100, Math.floor(job.progress || 0)));
    this.progress.querySelector(".bar").style.width = `${pct}%`;
    this.progress.setAttribute("aria-valuenow", String(pct));
    this.pctText.textContent = `${pct} %`;
    this.progress.classList.toggle("indeterminate", job.status === "pending");
    this.progress.classList.toggle("is-done", job.status === "completed");
    this.progress.classList.toggle("is-failed", job.status === "failed");
    this.statusBox.classList.toggle("is-done", job.status === "completed");
    this.statusBox.classList.toggle("is-failed", job.status === "failed");
    this.stateText.textContent = {
      pending: "Waiting for a free worker…",
      running: "Rendering your video…",
      completed: "Done — your video is ready.",
      failed: job.notStarted ? `The export could not start. ${job.error_message}` : explainFailure(job),
      cancelled: "The export was cancelled.",
    }[job.status] || job.status;
    const out = job.output_data || {};
    this.result.hidden = !(job.status === "completed" && out.download_url);
    if (out.download_url) {
      this.download.href = downloadHref(job);
      const parts = [out.resolution, out.duration != null ? formatTime(out.duration, { precise: true }) : null, out.size ? formatBytes(out.size) : null, out.format ? out.format.toUpperCase() : null];
      this.info.textContent = parts.filter(Boolean).join(" · ");
    }
  }
}

export class JobsPanel {
  constructor({ state, projectId, retryClip }) {
    this.state = state;
    this.projectId = projectId;
    this.retryClip = retryClip;
    this.dialog = document.getElementById("jobs-dialog");
    this.list = document.getElementById("job-list");
    this.count = document.getElementById("jobs-count");
    this.jobs = [];
    document.getElementById("open-jobs").addEventListener("click", () => {
      this.dialog.showModal();
      this.load();
    });
    document.getElementById("jobs-refresh").addEventListener("click", () => this.load());
  }

  async load() {
    try {
      const page = await api("GET", `/api/jobs?project=${this.projectId}&page_size=50`);
      this.jobs = Array.isArray(page) ? page : page.results;
      this.render();
    } catch (error) {
      this.list.replaceChildren(h("li", { class: "muted", text: `Jobs could not be loaded: ${error.message}` }));
    }
  }

  onSocket(message) {
    const job = this.jobs.find((j) => j.id === message.job_id);
    if (job) {
      if (message.progress != null) job.progress = message.progress;
      if (message.type === "processing:completed") job.status = "completed";
      else if (message.type === "processing:failed") {
        job.status = "failed";
        job.error_message = message.error_message || job.error_message;
      } else if (message.status) job.status = message.status;
      if (this.dialog.open) this.render();
    } else if (this.dialog.open) {
      this.load();
    }
    this.renderCount();
  }

  renderCount() {
    const active = this.jobs.filter((j) => ["pending", "running"].includes(j.status)).length;
    this.count.hidden = !active;
    this.count.textContent = String(active);
  }

  render() {
    this.renderCount();
    if (!this.jobs.length) {
      this.list.replaceChildren(h("li", { class: "empty", text: "No jobs yet. Uploading a clip or exporting the timeline starts one, and it shows up here." }));
      return;
    }
    this.list.replaceChildren(
      ...this.jobs.map((job) => {
        const clip = job.clip_id ? this.state.clips.get(job.clip_id) : null;
        const title = `${JOB_TITLES[job.job_type] || job.job_type}${clip ? ` · ${clip.name}` : ""}`;
        const item = h(
          "li",
          { class: `job-item${job.status === "failed" ? " is-failed" : ""}` },
          h("div", { class: "row" }, h("span", { class: "title", text: title }), h("span", { class: `badge badge-${job.status}`, text: job.status })),
          h("span", { class: "when", text: new Date(job.created_at).toLocaleString() }),
        );
        if (["pending", "running"].includes(job.status)) {
          const bar = h("div", { class: "bar", style: { width: `${job.progress || 0}%` } });
          item.append(h("div", { class: `progress${job.status === "pending" ? " indeterminate" : ""}`, role: "progressbar", "aria-label": title, "aria-valuenow": String(job.progress || 0), "aria-valuemin": "0", "aria-valuemax": "100" }, bar));
        }
        if (job.status === "failed") {
          item.append(h("p", { class: "explain", text: explainFailure(job, clip && clip.name) }));
          // Not for a file that was refused and deleted: processing it again cannot help.
          if (clip && clip.status === "failed" && clip.file_size != null) item.append(h("div", {}, h("button", { type: "button", class: "btn btn-sm", text: "Retry processing", onclick: () => this.retryClip(clip.id).then(() => this.load()) })));
        }
        const out = job.output_data || {};
        if (job.job_type === "export" && job.status === "completed" && out.download_url) {
          item.append(h("div", {}, h("a", { class: "btn btn-sm btn-primary", href: downloadHref(job), download: "", text: `Download ${out.format ? out.format.toUpperCase() : "video"}` })));
        }
        return item;
      }),
    );
  }
}
