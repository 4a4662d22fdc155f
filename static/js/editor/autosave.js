// Live co-editing of the timeline (API.md "Editing together"). Every local edit is sent as
// segment operations (create / update / delete), one at a time and in order; the server orders
// them with everyone else's and broadcasts each as `timeline:op`. The editor shows the timeline
// as the server has it (applied in version order) with this tab's operations not yet seen back
// on top, so others' edits never undo ours and ours never flicker away. An operation the server
// refuses (409: its segment went, it would overlap) is dropped and the timeline fetched again,
// without a reload. Unsent operations are kept in localStorage until the server has them.
import { api, toast } from "../api.js";
import { newKey } from "./state.js";

const RETRY_MAX = 10000;
// An operation the server accepted but whose broadcast did not come back (socket down) this
// long: fetch the timeline instead.
const ECHO_WAIT = 2500;
// A version missing from the broadcasts this long: fetch the timeline instead of waiting.
const GAP_WAIT = 1000;

const NUMERIC = ["start_time", "source_start", "duration", "volume", "fade_in", "fade_out"];

function shown(segment, key) {
  const seg = { ...segment, key };
  delete seg.id;
  for (const name of NUMERIC) if (seg[name] != null) seg[name] = Number(seg[name]);
  if (seg.transition) seg.transition = { ...seg.transition, duration: Number(seg.transition.duration) };
  return seg;
}

export class Autosave {
  constructor({ state, projectId, userId = null }) {
    this.state = state;
    this.projectId = projectId;
    this.userId = userId;
    this.draftKey = `clipseq:draft:${projectId}`;
    this.saveState = document.getElementById("save-state");
    this.server = new Map(); // id → segment, as of `version`
    this.version = 0;
    this.keys = new Map(); // server id → local key
    this.ids = new Map(); // local key → server id
    this.queue = []; // {kind, key, fields, status: queued|sent|acked, ackVersion, id, ackedAt}
    this.sending = false;
    this.retryDelay = 1000;
    this.retryTimer = null;
    this.offline = null; // why nothing can be sent right now, or null
    this.early = new Map(); // version → broadcast that came before the one preceding it
    this.gapTimer = null;
    this.echoTimer = null;
    this.waiters = [];

    state.addEventListener("timeline", (event) => {
      const ops = event.detail && event.detail.ops;
      if (!ops) return;
      for (const op of ops) this.enqueue(op);
      this.storeDraft();
      this.pump();
    });
    // The server's id of a segment the editor shows (comments attach to it).
    state.serverIdOf = (key) => this.serverId(key);
    state.addEventListener("released", () => {
      if (this.stale) this.rebuild();
    });
  }

  // ---- ids ------------------------------------------------------------------------------
  keyOf(id) {
    let key = this.keys.get(id);
    if (!key) {
      key = newKey();
      this.keys.set(id, key);
      this.ids.set(key, id);
    }
    return key;
  }

  bind(key, id) {
    const previous = this.ids.get(key);
    if (previous) this.keys.delete(previous);
    // The broadcast of our own create may have come first and got a key of its own.
    const stray = this.keys.get(id);
    if (stray && stray !== key) this.ids.delete(stray);
    this.ids.set(key, id);
    this.keys.set(id, key);
  }

  serverId(key) {
    return this.ids.get(key) || null;
  }

  // ---- status ---------------------------------------------------------------------------
  // Something is not on the server yet.
  get pending() {
    return this.queue.some((op) => op.status !== "acked");
  }

  show(kind, text) {
    this.saveState.className = `save-state is-${kind}`;
    this.saveState.querySelector(".text").textContent = text;
  }

  showStatus() {
    if (this.offline) this.show("error", this.offline);
    else if (this.pending) this.show("saving", "Saving…");
    else this.show("saved", "All changes saved");
    if (!this.pending) {
      localStorage.removeItem(this.draftKey);
      for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  storeDraft() {
    const ops = this.queue
      .filter((op) => op.status !== "acked")
      .map((op) => ({ kind: op.kind, id: op.kind === "create" ? null : this.serverId(op.key), fields: op.fields }));
    try {
      if (ops.length) localStorage.setItem(this.draftKey, JSON.stringify({ ops, at: Date.now() }));
    } catch {
      /* storage full: the operations are still queued in this tab */
    }
  }

  // ---- sending --------------------------------------------------------------------------
  enqueue(op) {
    const fields = op.after ? { ...op.after } : null;
    const last = this.queue[this.queue.length - 1];
    // Merge into an update or create of the same segment that has not gone out yet.
    if (op.kind === "update" && last && last.status === "queued" && last.key === op.key && last.kind !== "delete") {
      Object.assign(last.fields, fields);
      return;
    }
    this.queue.push({ kind: op.kind, key: op.key, fields, status: "queued", ackVersion: null, id: null });
  }

  save() {
    this.pump();
  }

  async pump() {
    if (this.sending) return;
    const op = this.queue.find((o) => o.status === "queued");
    this.showStatus();
    if (!op) return;
    this.sending = true;
    op.status = "sent";
    try {
      await this.send(op);
      op.status = "acked";
      op.ackedAt = Date.now();
      this.offline = null;
      this.retryDelay = 1000;
      this.armEchoCheck();
    } catch (error) {
      // Worth trying again later (a signed-out session too: signing in again in another tab
      // lets these edits through).
      if (error.status === 0 || error.status === 401 || error.status === 429 || error.status >= 500) {
        op.status = "queued";
        this.offline = error.status === 401 ? "Not saved — sign in again in another tab" : "Offline — will retry";
        this.showStatus();
        const wait = error.retryAfter ? error.retryAfter * 1000 : this.retryDelay;
        this.retryDelay = Math.min(RETRY_MAX, this.retryDelay * 2);
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.pump(), wait);
        this.sending = false;
        return;
      }
      this.refused(op, error);
    } finally {
      this.sending = false;
    }
    this.prune();
    this.rebuild();
    this.storeDraft();
    this.pump();
  }

  async send(op) {
    if (op.kind === "create") {
      const body = { ...op.fields };
      const seg = await api("POST", `/api/projects/${this.projectId}/timeline/segments`, { json: body });
      this.bind(op.key, seg.id);
      op.id = seg.id;
      op.ackVersion = seg.timeline_version;
      return;
    }
    const id = this.serverId(op.key);
    if (!id) throw Object.assign(new Error("gone"), { status: 409, gone: true });
    op.id = id;
    if (op.kind === "update") {
      const seg = await api("PATCH", `/api/timeline/segments/${id}`, { json: op.fields });
      op.ackVersion = seg.timeline_version;
    } else {
      await api("DELETE", `/api/timeline/segments/${id}`);
    }
  }

  // The server said no: drop the operation (and the later ones on a segment never created),
  // show the timeline as it is now, and say so briefly.
  refused(op, error) {
    this.queue = this.queue.filter((o) => o !== op && !(op.kind === "create" && o.key === op.key && o.status === "queued"));
    if (!error.gone) {
      const text = error.status === 409
        ? "Someone else changed this part of the timeline first, so your edit was not applied."
        : `That edit was not saved: ${error.message}`;
      toast(text, { level: error.status === 409 ? "info" : "error", timeout: 5000, id: "op-refused" });
    }
    if (error.status === 409 && error.details && error.details.segment) {
      // The segment as it is now: show it at once, the full timeline follows.
      const seg = error.details.segment;
      if (this.server.has(seg.id)) this.server.set(seg.id, seg);
    }
    this.reload().catch(() => {});
  }

  // Operations the server has and whose broadcast has been applied no longer need replaying.
  prune() {
    this.queue = this.queue.filter((op) => {
      if (op.status !== "acked") return true;
      if (op.kind === "delete") return this.server.has(op.id);
      return op.ackVersion == null || op.ackVersion > this.version;
    });
    this.showStatus();
  }

  armEchoCheck() {
    clearTimeout(this.echoTimer);
    this.echoTimer = setTimeout(() => {
      const late = this.queue.some((op) => op.status === "acked" && Date.now() - op.ackedAt >= ECHO_WAIT);
      if (late) this.reload().catch(() => {});
      if (this.queue.some((op) => op.status === "acked")) this.armEchoCheck();
    }, ECHO_WAIT);
  }

  // ---- what the server says -------------------------------------------------------------
  // A `timeline:op` broadcast (ours or anyone's), applied in version order.
  onOp(message) {
    if (message.version <= this.version) return;
    this.early.set(message.version, message);
    while (this.early.has(this.version + 1)) {
      const next = this.early.get(this.version + 1);
      this.early.delete(this.version + 1);
      this.applyServerOp(next);
    }
    clearTimeout(this.gapTimer);
    if (this.early.size) {
      this.gapTimer = setTimeout(() => this.early.size && this.reload().catch(() => {}), GAP_WAIT);
    }
    this.prune();
    this.rebuild();
  }

  applyServerOp(message) {
    if (message.op === "create" || message.op === "update") this.server.set(message.segment.id, message.segment);
    else if (message.op === "delete") this.server.delete(message.segment_id);
    else if (message.op === "replace") this.server = new Map(message.segments.map((s) => [s.id, s]));
    this.version = message.version;
  }

  // The timeline as the server has it now (after a refusal, a gap, a reconnect).
  async reload() {
    const fresh = await api("GET", `/api/projects/${this.projectId}/timeline`);
    this.adopt(fresh);
    this.prune();
    this.rebuild();
    return fresh;
  }

  // A fetched timeline replaces the server's state unless broadcasts already went further;
  // broadcasts that came early and follow it are applied on top.
  adopt(fresh) {
    if (fresh.version < this.version) return;
    this.server = new Map(fresh.segments.map((s) => [s.id, s]));
    this.version = fresh.version;
    for (const version of [...this.early.keys()]) if (version <= this.version) this.early.delete(version);
    while (this.early.has(this.version + 1)) {
      const next = this.early.get(this.version + 1);
      this.early.delete(this.version + 1);
      this.applyServerOp(next);
    }
  }

  // What the editor shows: the server's timeline, then this tab's operations on top.
  rebuild() {
    if (this.state.holding) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const view = new Map();
    const sorted = [...this.server.values()].sort((a, b) => Number(a.start_time) - Number(b.start_time));
    for (const segment of sorted) {
      const key = this.keyOf(segment.id);
      view.set(key, shown(segment, key));
    }
    for (const op of this.queue) {
      if (op.kind === "create") view.set(op.key, { ...(view.get(op.key) || {}), ...op.fields, key: op.key });
      else if (op.kind === "delete") view.delete(op.key);
      else if (view.has(op.key)) Object.assign(view.get(op.key), op.fields);
    }
    this.state.showSegments([...view.values()]);
  }

  // ---- start and export -----------------------------------------------------------------
  // The timeline as the server has it, then any operations a closed tab never got to send.
  start(fresh) {
    this.adopt(fresh);
    let draft = null;
    try {
      draft = JSON.parse(localStorage.getItem(this.draftKey));
    } catch {}
    if (draft && Array.isArray(draft.ops)) {
      for (const op of draft.ops) {
        if (op.kind === "create" && op.fields) {
          const key = newKey();
          this.queue.push({ kind: "create", key, fields: op.fields, status: "queued" });
        } else if (op.id && this.server.has(op.id) && ["update", "delete"].includes(op.kind)) {
          this.queue.push({ kind: op.kind, key: this.keyOf(op.id), fields: op.fields, status: "queued" });
        }
      }
      if (this.queue.length) toast("Restored your unsaved changes from last time.", { level: "success" });
      else localStorage.removeItem(this.draftKey);
    }
    this.rebuild();
    this.pump();
  }

  // Everything sent and accepted, or an error that says why not (the export saves first).
  async saveNow() {
    this.pump();
    if (this.offline) throw new Error("The timeline is not saved yet: the server cannot be reached. Try again in a moment.");
    if (this.pending) await new Promise((resolve) => this.waiters.push(resolve));
  }
}
