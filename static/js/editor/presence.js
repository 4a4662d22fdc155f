// Presence in the editor (API.md "Editing together"): who is in the project (avatars in the
// header), each other person's playhead and selected segments drawn on the timeline in their
// colour, and this tab's own playhead and selection sent on the project socket (at most ten
// times a second; the server merges faster bursts anyway).
import { h } from "../api.js";
import { MESSAGE } from "../messages.js";

const SEND_INTERVAL = 100;

function initials(name) {
  const parts = String(name || "?").trim().split(/[\s._-]+/).filter(Boolean);
  return ((parts[0] || "?")[0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

export class Presence {
  constructor({ state, timeline, autosave, userId }) {
    this.state = state;
    this.timeline = timeline;
    this.autosave = autosave;
    this.userId = userId;
    this.users = new Map(); // id → {id, name, avatar_url, color, playhead, selection}
    this.socket = null;
    this.lastSent = 0;
    this.sendTimer = null;

    this.avatars = h("ul", { class: "presence", id: "presence", "aria-label": "People in this project" });
    document.querySelector(".topbar-middle")?.append(this.avatars);
    this.marks = h("div", { class: "presence-marks", "aria-hidden": "true" });
    timeline.content.append(this.marks);

    state.addEventListener("playhead", () => this.schedule());
    state.addEventListener("selection", () => this.schedule());
    // After the timeline view has re-rendered (it listens first): segment nodes are new.
    state.addEventListener("timeline", () => this.drawMarks());
    state.addEventListener("selection", () => this.drawMarks());
    timeline.afterRender = () => this.drawMarks();
  }

  attach(socket) {
    this.socket = socket;
  }

  onSocketState(s) {
    if (s === "open") {
      // The server starts everyone at 0 with nothing selected: tell it where we are.
      this.lastSent = 0;
      setTimeout(() => this.send(), 0);
    } else {
      this.users.clear();
      this.render();
    }
  }

  // ---- sending --------------------------------------------------------------------------
  mine() {
    const id = this.autosave.serverId(this.state.selected);
    return { type: MESSAGE.PRESENCE_UPDATE, playhead: Math.round(this.state.playhead * 1000) / 1000, selection: id ? [id] : [] };
  }

  schedule() {
    if (this.sendTimer) return;
    const wait = Math.max(0, this.lastSent + SEND_INTERVAL - Date.now());
    this.sendTimer = setTimeout(() => this.send(), wait);
  }

  send() {
    clearTimeout(this.sendTimer);
    this.sendTimer = null;
    if (!this.socket) return;
    this.lastSent = Date.now();
    this.socket.send(this.mine());
  }

  // ---- receiving ------------------------------------------------------------------------
  onMessage(message) {
    if (message.type === MESSAGE.PRESENCE) {
      this.users = new Map(message.users.map((u) => [u.id, u]));
    } else if (message.type === MESSAGE.PRESENCE_JOIN) {
      const known = this.users.get(message.user.id);
      // Another tab of someone already here keeps their current place.
      this.users.set(message.user.id, known ? { ...message.user, playhead: known.playhead, selection: known.selection } : message.user);
    } else if (message.type === MESSAGE.PRESENCE_UPDATE) {
      const user = this.users.get(message.user_id);
      if (!user) return;
      user.playhead = message.playhead;
      user.selection = message.selection;
      if (message.user_id !== this.userId) this.drawMarks();
      return;
    } else if (message.type === MESSAGE.PRESENCE_LEAVE) {
      this.users.delete(message.user_id);
    }
    this.render();
  }

  others() {
    return [...this.users.values()].filter((u) => u.id !== this.userId);
  }

  // ---- drawing --------------------------------------------------------------------------
  render() {
    const everyone = [...this.users.values()].sort((a, b) => (a.id === this.userId ? -1 : b.id === this.userId ? 1 : 0));
    this.avatars.replaceChildren(
      ...everyone.map((user) => {
        const you = user.id === this.userId;
        const label = you ? `${user.name} (you)` : user.name;
        const item = h("li", { class: `presence-avatar${you ? " is-you" : ""}`, title: label, "aria-label": label, dataset: { userId: user.id } });
        item.style.setProperty("--presence-color", user.color);
        // Only our own origin's pictures pass the CSP; everyone else gets initials.
        if (user.avatar_url && user.avatar_url.startsWith("/")) item.append(h("img", { src: user.avatar_url, alt: "" }));
        else item.append(h("span", { text: initials(user.name) }));
        return item;
      }),
    );
    this.avatars.hidden = everyone.length < 2;
    this.drawMarks();
  }

  drawMarks() {
    const pps = this.timeline.pps;
    const others = this.others();
    const nodes = others.map((user) => {
      const mark = h("div", { class: "remote-playhead", dataset: { userId: user.id }, title: user.name }, h("span", { class: "remote-name", text: user.name }));
      mark.style.setProperty("--presence-color", user.color);
      mark.style.left = `${Number(user.playhead || 0) * pps}px`;
      return mark;
    });
    this.marks.replaceChildren(...nodes);
    for (const node of this.timeline.content.querySelectorAll(".segment.is-remote-selected")) {
      node.classList.remove("is-remote-selected");
      node.style.removeProperty("--presence-color");
      delete node.dataset.selectedBy;
    }
    for (const user of others) {
      for (const id of user.selection || []) {
        const key = this.autosave.keys.get(id);
        const node = key && this.timeline.content.querySelector(`.segment[data-key="${CSS.escape(key)}"]`);
        if (!node) continue;
        node.classList.add("is-remote-selected");
        node.style.setProperty("--presence-color", user.color);
        node.dataset.selectedBy = user.name;
      }
    }
  }
}
