// The timeline's version history (API.md "Editing together"): who changed it, when, and what,
// newest first; an editor restores any version, which the server keeps as a new version.
import { api, h, toast } from "../api.js";
import { MESSAGE } from "../messages.js";

const RANK = { viewer: 0, commenter: 1, editor: 2, owner: 3 };

function when(iso) {
  const date = new Date(iso);
  const seconds = (Date.now() - date.getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return date.toLocaleString();
}

export class HistoryPanel {
  constructor({ projectId, role, onRestored }) {
    this.projectId = projectId;
    this.canRestore = RANK[role] >= RANK.editor;
    this.onRestored = onRestored;
    this.list = document.getElementById("history-list");
    this.more = document.getElementById("history-more");
    this.items = [];
    this.next = null;
    this.visible = false;
    this.stale = true;
    document.getElementById("history-refresh").addEventListener("click", () => this.load());
    this.more.addEventListener("click", () => this.loadMore());
  }

  show(visible) {
    this.visible = visible;
    if (visible && this.stale) this.load();
  }

  // Any change of the timeline makes a version: refresh now if shown, else on next showing.
  onSocket(message) {
    if (message.type !== MESSAGE.TIMELINE_UPDATED && message.type !== MESSAGE.TIMELINE_OP) return;
    this.stale = true;
    clearTimeout(this.timer);
    if (this.visible) this.timer = setTimeout(() => this.load(), 400);
  }

  async load() {
    try {
      const page = await api("GET", `/api/projects/${this.projectId}/timeline/history?page_size=50`);
      this.items = page.results;
      this.next = page.next;
      this.stale = false;
      this.render();
    } catch (error) {
      this.list.replaceChildren(h("li", { class: "muted", text: error.message }));
    }
  }

  async loadMore() {
    if (!this.next) return;
    const url = new URL(this.next, location.href);
    try {
      const page = await api("GET", url.pathname + url.search);
      this.items.push(...page.results);
      this.next = page.next;
      this.render();
    } catch (error) {
      toast(error.message, { level: "error", id: "history" });
    }
  }

  render() {
    const latest = this.items.length ? this.items[0].version : null;
    const focused = document.activeElement && this.list.contains(document.activeElement);
    this.list.replaceChildren(
      ...this.items.map((item) =>
        h(
          "li",
          { class: `history-item${item.version === latest ? " is-current" : ""}`, dataset: { version: String(item.version) } },
          h(
            "div",
            { class: "history-line" },
            h("span", { class: "history-version mono", text: `v${item.version}` }),
            h("span", { class: "history-summary", text: item.summary || item.op || "changed" }),
          ),
          h(
            "div",
            { class: "history-meta" },
            h("span", { class: "history-by", text: (item.by && item.by.name) || "Someone" }),
            h("time", { datetime: item.at, title: new Date(item.at).toLocaleString(), text: when(item.at) }),
            item.version === latest
              ? h("span", { class: "badge", text: "current" })
              : this.canRestore
                ? h("button", {
                    type: "button",
                    class: "btn btn-sm btn-ghost history-restore",
                    text: "Restore this version",
                    "aria-label": `Restore version ${item.version}`,
                    onclick: (event) => this.restore(item.version, event.currentTarget),
                  })
                : null,
          ),
        ),
      ),
    );
    if (!this.items.length) this.list.append(h("li", { class: "muted", text: "No versions yet: the first edit of the timeline makes one." }));
    this.more.hidden = !this.next;
    if (focused) document.getElementById("history-refresh").focus();
  }

  async restore(version, button) {
    button.disabled = true;
    try {
      const timeline = await api("POST", `/api/projects/${this.projectId}/timeline/restore`, { json: { version } });
      await this.onRestored(timeline);
      toast(`Restored version ${version}; it is now version ${timeline.version}.`, { timeout: 4000, id: "history" });
      await this.load();
    } catch (error) {
      button.disabled = false;
      toast(error.message, { level: "error", id: "history" });
    }
  }
}
