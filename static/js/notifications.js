// The bell in the page header: the unread count, the latest notifications, and live ones from
// the caller's socket (/ws/). Messages without an id are not kept notifications: the bell
// ignores them (the editor shows those itself).
import { api, h, openSocket, toast } from "./api.js";
import { MESSAGE } from "./messages.js";

const LEVELS = { success: "success", error: "error" };
const PAGE = 20;

function relativeTime(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

// Where a notification leads: the project (a comment at its time), or nowhere yet for an
// invitation, which is accepted through the link in its e-mail.
function target(notification) {
  if (!notification.project_id || notification.kind === "invitation") return null;
  const time = notification.data && notification.data.time;
  return `/projects/${notification.project_id}/${time != null ? `#t=${time}` : ""}`;
}

function init(root) {
  const button = root.querySelector(".bell-button");
  const badge = root.querySelector(".bell-count");
  const panel = root.querySelector(".bell-panel");
  const list = root.querySelector(".bell-list");
  const empty = root.querySelector(".bell-empty");
  let unread = 0;

  const setUnread = (count) => {
    unread = Math.max(0, count);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    button.setAttribute("aria-label", unread ? `Notifications, ${unread} unread` : "Notifications");
  };

  const item = (notification) => {
    const href = target(notification);
    const text = h("span", { class: "bell-message", text: notification.message });
    const when = h("time", { class: "bell-time", datetime: notification.created_at, text: relativeTime(notification.created_at) });
    const body = href ? h("a", { href }, text, when) : h("div", {}, text, when);
    return h("li", { class: `bell-item bell-${notification.level}${notification.read ? "" : " is-unread"}`, dataset: { id: notification.id } }, body);
  };

  const markRead = async (ids) => {
    if (ids && !ids.length) return;
    try {
      await api("POST", "/api/notifications/read", { json: ids ? { ids } : {} });
    } catch {
      /* they stay unread; the next open tries again */
    }
  };

  const load = async () => {
    const page = await api("GET", `/api/notifications?page_size=${PAGE}`);
    list.replaceChildren(...page.results.map(item));
    empty.hidden = page.results.length > 0;
    setUnread(page.unread_count ?? 0);
    return page.results;
  };

  const open = async () => {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    try {
      const shown = await load();
      // Seen means read; they keep their highlight until the panel opens again.
      const ids = shown.filter((n) => !n.read).map((n) => n.id);
      await markRead(ids);
      setUnread(unread - ids.length);
    } catch (error) {
      list.replaceChildren(h("li", { class: "bell-item muted", text: error.message }));
    }
  };

  const close = () => {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
  };

  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  root.querySelector("[data-read-all]").addEventListener("click", async () => {
    await markRead(null);
    setUnread(0);
    list.querySelectorAll(".is-unread").forEach((node) => node.classList.remove("is-unread"));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      close();
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !root.contains(event.target)) close();
  });

  api("GET", "/api/notifications?unread=true&page_size=1")
    .then((page) => setUnread(page.unread_count ?? page.count))
    .catch(() => {});

  openSocket("/ws/", {
    onMessage(message) {
      if (message.type !== MESSAGE.NOTIFICATION || !message.id) return;
      setUnread(unread + 1);
      if (!panel.hidden) {
        list.prepend(item({ ...message, read: false, created_at: new Date().toISOString() }));
        empty.hidden = true;
      }
      toast(message.message, { level: LEVELS[message.level] || "info", id: `notification-${message.id}` });
    },
  });
}

const root = document.querySelector("[data-notifications]");
if (root) init(root);
