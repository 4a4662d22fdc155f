// The page's client for the HTTP API and the websocket (API.md). Session cookie + CSRF header.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// Plain-language fallbacks when a response carries no usable message.
const STATUS_TEXT = {
  0: "The server could not be reached. Check your connection; your work is kept in this tab.",
  401: "Your session has ended. Sign in again in another tab, then retry.",
  403: "You are not allowed to do that.",
  404: "That item no longer exists.",
  413: "That is too large for your remaining storage.",
  429: "Too many requests at once. Wait a moment and try again.",
  500: "The server had a problem. Try again in a moment.",
};

export async function api(method, path, { json, body, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin", signal };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "NETWORK", STATUS_TEXT[0]);
  }
  if (response.status === 204) return null;
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) data = await response.json().catch(() => null);
  if (!response.ok) {
    const err = data && data.error;
    const message = (err && err.message) || STATUS_TEXT[response.status] || STATUS_TEXT[500];
    const apiError = new ApiError(response.status, err ? err.code : "HTTP_" + response.status, message, err && err.details);
    apiError.retryAfter = Number(response.headers.get("Retry-After")) || 0;
    throw apiError;
  }
  return data;
}

// Every page of a paginated list.
export async function listAll(path) {
  const items = [];
  let next = path;
  while (next) {
    const page = await api("GET", next);
    if (Array.isArray(page)) return page;
    items.push(...page.results);
    next = page.next ? new URL(page.next, location.href).pathname + new URL(page.next, location.href).search : null;
  }
  return items;
}

// A websocket that reconnects with exponential backoff and reports its state.
export function openSocket(path, { onMessage, onState }) {
  let socket = null;
  let attempt = 0;
  let closed = false;
  let timer = null;
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.addEventListener("open", () => {
      attempt = 0;
      onState && onState("open");
    });
    socket.addEventListener("message", (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(data);
    });
    socket.addEventListener("close", () => {
      if (closed) return;
      onState && onState("closed");
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      attempt += 1;
      timer = setTimeout(connect, delay);
    });
  };
  connect();
  return {
    // Sends now if the socket is open; a message while it is down is dropped (callers resend
    // their state on "open").
    send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    close() {
      closed = true;
      clearTimeout(timer);
      if (socket) socket.close();
    },
  };
}

export function formatBytes(bytes) {
  if (bytes == null) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 10 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatTime(seconds, { precise = false } = {}) {
  const s = Math.max(0, Number(seconds) || 0);
  const minutes = Math.floor(s / 60);
  const rest = s - minutes * 60;
  const secText = precise ? rest.toFixed(2).padStart(5, "0") : String(Math.floor(rest)).padStart(2, "0");
  return `${minutes}:${secText}`;
}

// Build DOM without innerHTML so nothing a user typed is ever parsed as markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style") Object.assign(el.style, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// A small non-blocking message at the corner of the screen.
export function toast(message, { level = "info", timeout = 5000, actions = [], id = null } = {}) {
  let host = document.getElementById("toasts");
  if (!host) {
    host = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(host);
  }
  // A toast with an id replaces the previous one of that id instead of stacking up.
  if (id) host.querySelector(`[data-toast="${CSS.escape(id)}"]`)?.remove();
  const node = h("div", { class: `toast toast-${level}`, dataset: id ? { toast: id } : {} }, h("span", { text: message }));
  for (const action of actions) {
    node.append(
      h("button", {
        type: "button",
        class: "btn btn-sm",
        text: action.label,
        onclick: () => {
          node.remove();
          action.run();
        },
      }),
    );
  }
  node.append(h("button", { type: "button", class: "btn-icon", "aria-label": "Dismiss", text: "×", onclick: () => node.remove() }));
  host.append(node);
  if (timeout) setTimeout(() => node.remove(), timeout);
  return node;
}
