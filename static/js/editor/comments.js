// Timecoded comments (API.md "Comments"): threads in the side panel, oldest first; a new comment
// sits at the playhead (optionally on the selected segment); replies, resolve/reopen (editor+),
// edit/delete own, @mentions of members; comments arriving on the project socket; and a marker on
// the ruler at each open thread's time. Clicking a marker or a comment's time seeks there.
import { api, formatTime, h, listAll, toast } from "../api.js";
import { MESSAGE } from "../messages.js";
import { avatar } from "./share.js";

const RANK = { viewer: 0, commenter: 1, editor: 2, owner: 3 };

function relativeTime(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class CommentsPanel {
  constructor({ projectId, state, timeline, me, role, onSeek, onShow, isShown }) {
    this.projectId = projectId;
    this.state = state;
    this.timeline = timeline;
    this.me = me;
    this.canComment = RANK[role] >= RANK.commenter;
    this.canResolve = RANK[role] >= RANK.editor;
    this.isOwner = role === "owner";
    this.onSeek = onSeek;
    this.onShow = onShow || (() => {});
    this.isShown = isShown || (() => false);
    this.comments = new Map();
    this.members = [];
    this.showResolved = false;
    this.mentionPicks = new Map(); // user id → the name inserted as @name

    this.list = document.getElementById("thread-list");
    this.empty = document.getElementById("comments-empty");
    this.count = document.getElementById("comments-count");
    this.markers = document.getElementById("comment-markers");
    this.form = document.getElementById("comment-form");
    this.body = document.getElementById("comment-body");
    this.timeOutput = document.getElementById("comment-time");
    this.onSegment = document.getElementById("comment-on-segment");
    this.mentionList = document.getElementById("mention-list");

    this.form.hidden = !this.canComment;
    document.getElementById("comment-readonly").hidden = this.canComment;
    this.bind();
  }

  bind() {
    document.getElementById("comments-show-resolved").addEventListener("change", (event) => {
      this.showResolved = event.target.checked;
      this.render();
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    this.body.addEventListener("keydown", (event) => this.composerKey(event, this.body, () => this.create()));
    this.body.addEventListener("input", () => this.updateMentions(this.body));
    this.state.addEventListener("playhead", () => {
      this.timeOutput.textContent = formatTime(this.state.playhead, { precise: true });
    });
    this.state.addEventListener("selection", () => this.updateSegmentChoice());
    this.state.addEventListener("timeline", () => this.updateSegmentChoice());

    // The ruler is rebuilt on every zoom and render: the markers follow it.
    new MutationObserver(() => this.renderMarkers()).observe(document.getElementById("ruler"), { childList: true });
    // A marker is a button over the ruler; pressing it must not start a scrub.
    this.markers.addEventListener("pointerdown", (event) => {
      if (event.target.closest(".comment-marker")) event.stopPropagation();
    });
  }

  setMembers(members) {
    this.members = members;
  }

  async load() {
    const items = await listAll(`/api/projects/${this.projectId}/comments?page_size=200`);
    this.comments = new Map(items.map((c) => [c.id, c]));
    this.render();
  }

  // ---- live messages (the project socket) ----------------------------------------------------
  onSocket(message) {
    if (message.type === MESSAGE.COMMENT || message.type === MESSAGE.COMMENT_UPDATED) {
      const comment = message.comment;
      if (!comment) return;
      const fresh = !this.comments.has(comment.id);
      this.comments.set(comment.id, comment);
      this.render();
      // With the panel shut, say so (the bell tells only those the comment concerns).
      if (fresh && message.type === MESSAGE.COMMENT && !this.isShown() && (!this.me || comment.author.id !== this.me.id)) {
        toast(`${comment.author.name} commented${comment.time != null ? ` at ${formatTime(comment.time, { precise: true })}` : ""}.`, {
          timeout: 4000,
          id: "comment",
          actions: [{ label: "Show", run: () => this.reveal(comment.parent_id || comment.id) }],
        });
      }
    } else if (message.type === MESSAGE.COMMENT_DELETED) {
      this.forget(message.comment_id);
      this.render();
    }
  }

  forget(id) {
    this.comments.delete(id);
    for (const [key, c] of this.comments) if (c.parent_id === id) this.comments.delete(key);
  }

  // ---- threads -------------------------------------------------------------------------------
  threads() {
    const all = [...this.comments.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
    const tops = all.filter((c) => !c.parent_id);
    const replies = new Map();
    for (const c of all) {
      if (!c.parent_id) continue;
      if (!replies.has(c.parent_id)) replies.set(c.parent_id, []);
      replies.get(c.parent_id).push(c);
    }
    return tops.map((top) => ({ top, replies: replies.get(top.id) || [] }));
  }

  // Live comments re-render the list: a reply being written is carried over to the new thread
  // node (with its focus), and while a comment is being edited the list waits.
  render() {
    if (this.list.querySelector(".edit-form")) {
      this.renderMarkers();
      return;
    }
    const replying = new Map([...this.list.querySelectorAll(".reply-form")].map((form) => [form.closest(".thread").dataset.id, form]));
    const active = document.activeElement;
    const threads = this.threads();
    const open = threads.filter((t) => !t.top.resolved);
    const shown = this.showResolved ? threads : open;
    this.count.hidden = open.length === 0;
    this.count.textContent = String(open.length);
    this.count.setAttribute("aria-label", `${open.length} open`);
    const focused = document.activeElement && this.list.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
    this.list.replaceChildren(...shown.map((t) => this.threadNode(t)));
    this.empty.hidden = shown.length > 0;
    if (focused) this.list.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
    for (const [id, form] of replying) {
      const thread = this.list.querySelector(`.thread[data-id="${CSS.escape(id)}"]`);
      if (!thread) continue;
      thread.append(form);
      if (form.contains(active)) active.focus();
    }
    this.renderMarkers();
  }

  threadNode({ top, replies }) {
    const node = h(
      "li",
      { class: `thread${top.resolved ? " is-resolved" : ""}`, dataset: { id: top.id } },
      this.commentNode(top, { top: true }),
      replies.length ? h("ol", { class: "replies", "aria-label": "Replies" }, ...replies.map((r) => h("li", {}, this.commentNode(r, { top: false })))) : null,
    );
    if (this.canComment) {
      const replyButton = h("button", { type: "button", class: "link", text: "Reply", dataset: { focusKey: `reply-${top.id}` }, "aria-label": `Reply to ${top.author.name}` });
      replyButton.addEventListener("click", () => this.openReply(node, top));
      node.querySelector(".comment-actions").prepend(replyButton);
    }
    return node;
  }

  commentNode(c, { top }) {
    const mine = this.me && c.author.id === this.me.id;
    const actions = h("div", { class: "comment-actions" });
    if (top && this.canResolve) {
      actions.append(
        h("button", {
          type: "button",
          class: "link",
          dataset: { focusKey: `resolve-${c.id}` },
          text: c.resolved ? "Reopen" : "Resolve",
          "aria-label": `${c.resolved ? "Reopen" : "Resolve"} the comment by ${c.author.name}`,
          onclick: () => this.setResolved(c, !c.resolved),
        }),
      );
    }
    if (mine && this.canComment) {
      actions.append(h("button", { type: "button", class: "link", text: "Edit", "aria-label": "Edit your comment", onclick: (event) => this.edit(c, event.currentTarget.closest(".comment")) }));
    }
    if ((mine && this.canComment) || this.isOwner) {
      actions.append(h("button", { type: "button", class: "link link-danger", text: "Delete", "aria-label": `Delete the comment by ${c.author.name}`, onclick: () => this.remove(c) }));
    }
    const time =
      c.time != null
        ? h("button", {
            type: "button",
            class: "comment-time link mono",
            text: formatTime(c.time, { precise: true }),
            "aria-label": `Go to ${formatTime(c.time, { precise: true })}`,
            dataset: { focusKey: `time-${c.id}` },
            onclick: () => this.onSeek(Number(c.time)),
          })
        : null;
    return h(
      "article",
      { class: "comment", dataset: { id: c.id } },
      h(
        "header",
        { class: "comment-head" },
        avatar(c.author),
        h("span", { class: "comment-author", text: c.author.name }),
        time,
        c.segment_id ? h("span", { class: "badge", title: "On a segment", text: "segment" }) : null,
        top && c.resolved ? h("span", { class: "badge badge-resolved", text: "resolved" }) : null,
        h("time", { class: "comment-when", datetime: c.created_at, title: new Date(c.created_at).toLocaleString(), text: relativeTime(c.created_at) }),
      ),
      h("p", { class: "comment-body" }, ...this.bodyParts(c)),
      actions,
    );
  }

  // The body as text nodes, with the @names of its mentions highlighted.
  bodyParts(c) {
    const names = (c.mentions || []).map((id) => this.members.find((m) => m.user.id === id)).filter(Boolean).map((m) => m.user.name);
    if (!names.length) return [c.body];
    const pattern = new RegExp(`(${names.map((n) => `@${escapeRegExp(n)}`).join("|")})`, "g");
    return c.body.split(pattern).map((part, i) => (i % 2 ? h("span", { class: "mention", text: part }) : part));
  }

  reveal(id) {
    this.onShow();
    const thread = this.list.querySelector(`.thread[data-id="${CSS.escape(id)}"]`);
    if (!thread) return;
    thread.scrollIntoView({ block: "nearest" });
    thread.classList.remove("is-flash");
    void thread.offsetWidth; // restart the highlight animation
    thread.classList.add("is-flash");
  }

  // ---- markers on the ruler -------------------------------------------------------------------
  renderMarkers() {
    const pps = this.timeline.pps;
    const markers = this.threads()
      .filter((t) => !t.top.resolved && t.top.time != null)
      .map(({ top, replies }) => {
        const at = formatTime(top.time, { precise: true });
        const marker = h("button", {
          type: "button",
          class: "comment-marker",
          dataset: { id: top.id, time: String(top.time) },
          "aria-label": `Comment at ${at} by ${top.author.name}: ${top.body.slice(0, 80)}`,
          title: `${at} · ${top.author.name}: ${top.body.slice(0, 80)}${replies.length ? ` (+${replies.length})` : ""}`,
          style: { left: `${Number(top.time) * pps}px` },
        });
        marker.addEventListener("click", () => {
          this.onSeek(Number(top.time));
          this.reveal(top.id);
        });
        return marker;
      });
    this.markers.replaceChildren(...markers);
  }

  // ---- writing -------------------------------------------------------------------------------
  selectedSegmentId() {
    const key = this.state.selected;
    const seg = key ? this.state.segment(key) : null;
    if (!seg) return null;
    return seg.id || (this.state.serverIds && this.state.serverIds.get(key)) || null;
  }

  updateSegmentChoice() {
    const id = this.selectedSegmentId();
    this.onSegment.disabled = !id;
    if (!id) this.onSegment.checked = false;
  }

  mentionsIn(text) {
    const ids = [];
    for (const [id, name] of this.mentionPicks) if (text.includes(`@${name}`)) ids.push(id);
    return ids;
  }

  async post(payload) {
    return api("POST", `/api/projects/${this.projectId}/comments`, { json: payload });
  }

  async create() {
    const text = this.body.value.trim();
    if (!text) return this.body.focus();
    const payload = { body: text, time: Math.round(this.state.playhead * 1000) / 1000, mentions: this.mentionsIn(text) };
    if (this.onSegment.checked && this.selectedSegmentId()) payload.segment_id = this.selectedSegmentId();
    const send = document.getElementById("comment-send");
    send.disabled = true;
    try {
      const comment = await this.post(payload);
      this.comments.set(comment.id, comment);
      this.body.value = "";
      this.mentionPicks.clear();
      this.hideMentions();
      this.render();
      this.reveal(comment.id);
    } catch (error) {
      toast(error.message, { level: "error", id: "comment" });
    } finally {
      send.disabled = false;
      this.body.focus();
    }
  }

  openReply(node, top) {
    let form = node.querySelector(".reply-form");
    if (form) return form.querySelector("textarea").focus();
    const area = h("textarea", { rows: "2", maxlength: "10000", "aria-label": `Reply to ${top.author.name}`, placeholder: "Reply… type @ to mention" });
    const host = h("div", { class: "mention-host" }, area);
    const close = () => {
      form.remove();
      this.list.querySelector(`[data-focus-key="reply-${CSS.escape(top.id)}"]`)?.focus();
    };
    const send = async () => {
      const text = area.value.trim();
      if (!text) return area.focus();
      try {
        const comment = await this.post({ body: text, parent_id: top.id, time: top.time, mentions: this.mentionsIn(text) });
        this.comments.set(comment.id, comment);
        this.mentionPicks.clear();
        close();
        this.render();
        this.list.querySelector(`[data-focus-key="reply-${CSS.escape(top.id)}"]`)?.focus();
      } catch (error) {
        toast(error.message, { level: "error", id: "comment" });
      }
    };
    form = h(
      "form",
      { class: "reply-form", onsubmit: (event) => (event.preventDefault(), send()) },
      host,
      h("div", { class: "comment-form-foot" }, h("button", { type: "button", class: "btn btn-sm btn-ghost", text: "Cancel", onclick: close }), h("button", { type: "submit", class: "btn btn-sm btn-primary", text: "Reply" })),
    );
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.mentionList.hidden) {
        event.preventDefault();
        close();
        return;
      }
      this.composerKey(event, area, send);
    });
    area.addEventListener("input", () => this.updateMentions(area));
    node.append(form);
    area.focus();
  }

  edit(c, article) {
    const bodyNode = article.querySelector(".comment-body");
    const area = h("textarea", { rows: "2", maxlength: "10000", "aria-label": "Edit your comment" });
    area.value = c.body;
    const done = () => {
      form.remove(); // the list re-renders only once no edit is open
      this.render();
    };
    const save = async () => {
      const text = area.value.trim();
      if (!text) return area.focus();
      try {
        const updated = await api("PATCH", `/api/comments/${c.id}`, { json: { body: text } });
        this.comments.set(updated.id, updated);
        done();
      } catch (error) {
        toast(error.message, { level: "error", id: "comment" });
      }
    };
    const form = h(
      "form",
      { class: "edit-form", onsubmit: (event) => (event.preventDefault(), save()) },
      area,
      h("div", { class: "comment-form-foot" }, h("button", { type: "button", class: "btn btn-sm btn-ghost", text: "Cancel", onclick: done }), h("button", { type: "submit", class: "btn btn-sm btn-primary", text: "Save" })),
    );
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        done();
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        save();
      }
    });
    bodyNode.replaceWith(form);
    article.querySelector(".comment-actions").hidden = true;
    area.focus();
  }

  async setResolved(c, resolved) {
    try {
      const updated = await api("PATCH", `/api/comments/${c.id}`, { json: { resolved } });
      this.comments.set(updated.id, updated);
      this.render();
      toast(resolved ? "Resolved. Tick “Show resolved” to see it again." : "Reopened.", { timeout: 2500, id: "comment" });
    } catch (error) {
      toast(error.message, { level: "error", id: "comment" });
    }
  }

  async remove(c) {
    if (!window.confirm(c.parent_id ? "Delete this reply?" : "Delete this comment and its replies?")) return;
    try {
      await api("DELETE", `/api/comments/${c.id}`);
      this.forget(c.id);
      this.render();
    } catch (error) {
      toast(error.message, { level: "error", id: "comment" });
    }
  }

  // ---- @mentions -----------------------------------------------------------------------------
  composerKey(event, area, submit) {
    if (!this.mentionList.hidden && this.mentionArea === area) {
      const options = [...this.mentionList.querySelectorAll("[role=option]")];
      const current = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const next = (current + (event.key === "ArrowDown" ? 1 : -1) + options.length) % options.length;
        options.forEach((o, i) => o.setAttribute("aria-selected", String(i === next)));
        area.setAttribute("aria-activedescendant", options[next].id);
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && current >= 0) {
        event.preventDefault();
        options[current].click();
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        this.hideMentions();
        return;
      }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
    }
  }

  updateMentions(area) {
    const before = area.value.slice(0, area.selectionStart);
    const match = before.match(/(^|\s)@([^\s@]*)$/);
    if (!match) return this.hideMentions();
    const query = match[2].toLowerCase();
    const candidates = this.members.filter((m) => (!this.me || m.user.id !== this.me.id) && m.user.name.toLowerCase().startsWith(query)).slice(0, 6);
    if (!candidates.length) return this.hideMentions();
    // The list belongs to whichever composer asked for it.
    area.parentElement.append(this.mentionList);
    this.mentionArea = area;
    this.mentionList.replaceChildren(
      ...candidates.map((m, i) =>
        h(
          "li",
          {
            role: "option",
            id: `mention-${m.user.id}`,
            class: "mention-option",
            "aria-selected": String(i === 0),
            onmousedown: (event) => event.preventDefault(), // keep the caret in the textarea
            onclick: () => this.pickMention(area, m, match[2].length),
          },
          avatar(m.user),
          h("span", { text: m.user.name }),
          h("span", { class: "muted", text: m.role }),
        ),
      ),
    );
    this.mentionList.hidden = false;
    area.setAttribute("aria-controls", "mention-list");
    area.setAttribute("aria-expanded", "true");
    area.setAttribute("aria-activedescendant", `mention-${candidates[0].user.id}`);
  }

  pickMention(area, member, typed) {
    const at = area.selectionStart;
    const start = at - typed; // just after the "@"
    const insert = `${member.user.name} `;
    area.value = area.value.slice(0, start) + insert + area.value.slice(at);
    area.selectionStart = area.selectionEnd = start + insert.length;
    this.mentionPicks.set(member.user.id, member.user.name);
    this.hideMentions();
    area.focus();
  }

  hideMentions() {
    this.mentionList.hidden = true;
    if (this.mentionArea) {
      this.mentionArea.setAttribute("aria-expanded", "false");
      this.mentionArea.removeAttribute("aria-activedescendant");
    }
  }
}
