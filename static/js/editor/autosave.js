// Autosave of the timeline: debounced saves with the version the editor started from, a draft in
// localStorage until the server has it, and version conflicts explained (keep mine, or load
// theirs) instead of overwriting anyone's work.
import { api, toast } from "../api.js";

const SAVE_DELAY = 700;

export class Autosave {
  constructor({ state, projectId }) {
    this.state = state;
    this.projectId = projectId;
    this.draftKey = `clipseq:draft:${projectId}`;
    this.saveState = document.getElementById("save-state");
    this.conflictBar = document.getElementById("conflict-bar");
    this.timer = null;
    this.saving = null;
    this.savedSeq = 0;
    this.conflict = false;

    document.getElementById("conflict-reload").addEventListener("click", () => this.loadTheirs());
    document.getElementById("conflict-keep").addEventListener("click", () => this.keepMine());
    state.addEventListener("timeline", (event) => {
      if (event.detail && (event.detail.fromServer || event.detail.live)) return;
      this.storeDraft();
      this.schedule();
    });
  }

  get dirty() {
    return this.state.changeSeq !== this.savedSeq;
  }

  // Something is not on the server yet: a change, or a save under way.
  get pending() {
    return this.dirty || Boolean(this.saving);
  }

  show(kind, text) {
    this.saveState.className = `save-state is-${kind}`;
    this.saveState.querySelector(".text").textContent = text;
  }

  storeDraft() {
    const state = this.state;
    try {
      localStorage.setItem(this.draftKey, JSON.stringify({ version: state.version, segments: state.snapshot(), ids: [...state.serverIds], at: Date.now() }));
    } catch {
      /* storage full: the server copy is still there */
    }
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.conflict) return;
    this.show("dirty", "Unsaved changes");
    this.timer = setTimeout(() => this.save(), SAVE_DELAY);
  }

  async save() {
    clearTimeout(this.timer);
    if (this.saving) return this.saving;
    if (!this.dirty || this.conflict) return;
    const state = this.state;
    const seq = state.changeSeq;
    const payload = state.payload();
    const sentKeys = state.segments.map((s) => s.key);
    this.show("saving", "Saving…");
    this.saving = (async () => {
      try {
        const saved = await api("POST", `/api/projects/${this.projectId}/timeline`, { json: payload });
        state.adoptSaved(sentKeys, saved);
        this.savedSeq = seq;
        for (const node of document.querySelectorAll(".segment.is-invalid")) node.classList.remove("is-invalid");
        if (!this.dirty) {
          localStorage.removeItem(this.draftKey);
          this.show("saved", "All changes saved");
        }
      } catch (error) {
        if (error.status === 409) {
          this.showConflict();
        } else if (error.status === 400) {
          const index = error.details && error.details.segment;
          const key = index != null ? sentKeys[index] : null;
          this.show("error", "Not saved — see the message");
          toast(`${error.message} Undo (Ctrl+Z) or fix that segment; saving resumes on your next change.`, { level: "error", timeout: 9000 });
          if (key) document.querySelector(`.segment[data-key="${CSS.escape(key)}"]`)?.classList.add("is-invalid");
          this.savedSeq = seq; // do not retry the same invalid timeline in a loop
        } else {
          this.show("error", "Offline — will retry");
          setTimeout(() => this.dirty && this.schedule(), 4000);
        }
      } finally {
        this.saving = null;
      }
      if (this.dirty && !this.conflict) this.schedule();
    })();
    return this.saving;
  }

  // Everything saved, or an error that says why not (the export saves first).
  async saveNow() {
    if (this.saving) await this.saving;
    if (this.dirty) await this.save();
    if (this.conflict) throw new Error("Resolve the timeline conflict first: keep your version or load theirs.");
    if (this.dirty) throw new Error("The timeline has unsaved changes that the server refused. Fix them, then export.");
  }

  showConflict() {
    this.conflict = true;
    clearTimeout(this.timer);
    this.conflictBar.hidden = false;
    this.show("error", "Not saved — conflict");
    document.getElementById("conflict-keep").focus();
  }

  async reload() {
    const fresh = await api("GET", `/api/projects/${this.projectId}/timeline`);
    this.state.loadTimeline(fresh);
    this.savedSeq = this.state.changeSeq;
    return fresh;
  }

  async loadTheirs() {
    this.conflict = false;
    this.conflictBar.hidden = true;
    this.state.undoStack.push(this.state.snapshot()); // their version replaces mine, but Ctrl+Z brings mine back
    await this.reload();
    localStorage.removeItem(this.draftKey);
    this.state.emit("history");
    this.show("saved", "Loaded the latest version");
  }

  async keepMine() {
    // Keep mine: save my segments on top of the latest version.
    const state = this.state;
    const latest = await api("GET", `/api/projects/${this.projectId}/timeline`);
    const liveIds = new Set(latest.segments.map((s) => s.id));
    for (const [key, id] of state.serverIds) if (!liveIds.has(id)) state.serverIds.delete(key);
    state.version = latest.version;
    this.conflict = false;
    this.conflictBar.hidden = true;
    state.changeSeq += 1;
    await this.save();
  }

  // Someone else saved (another tab): take it if nothing is pending here, else the next save
  // meets the conflict and asks.
  theirsSaved(version) {
    setTimeout(() => {
      if (version > this.state.version && !this.saving && !this.dirty && !this.conflict) {
        this.reload();
        toast("The timeline was updated from another tab or device.", { timeout: 3000 });
      }
    }, 800);
  }

  // The timeline as the server has it, then any unsaved edits of a tab that closed before its
  // save landed.
  start(fresh) {
    const state = this.state;
    state.loadTimeline(fresh);
    this.savedSeq = state.changeSeq;
    let draft = null;
    try {
      draft = JSON.parse(localStorage.getItem(this.draftKey));
    } catch {}
    if (!draft || !Array.isArray(draft.segments)) return;
    const restore = () => {
      state.serverIds = new Map(draft.ids || []);
      state.version = fresh.version;
      state.commit(() => draft.segments);
    };
    if (draft.version === fresh.version) {
      restore();
      toast("Restored your unsaved changes from last time.", { level: "success" });
    } else {
      toast("Unsaved changes from an earlier session were made on an older version of this timeline.", {
        timeout: 0,
        actions: [
          { label: "Restore mine", run: restore },
          { label: "Discard", run: () => localStorage.removeItem(this.draftKey) },
        ],
      });
    }
  }
}
