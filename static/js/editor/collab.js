// Working together in the editor: the Share dialog, the comments and history side panel, and what
// a viewer or commenter may not do (edit the timeline or the library). main.js hands the
// returned listeners to the project socket and calls load() once the timeline is in.
import { toast } from "../api.js";
import { CommentsPanel } from "./comments.js";
import { HistoryPanel } from "./history.js";
import { ShareDialog } from "./share.js";
import { SidePanel } from "./sidepanel.js";

const RANK = { viewer: 0, commenter: 1, editor: 2, owner: 3 };
const EDIT_KEYS = new Set(["s", "S", "[", "]", "Delete", "Backspace"]);

const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) && el.type !== "range";

// The server refuses a viewer's or commenter's edits (403); the page does not offer them.
function makeReadOnly(role) {
  document.getElementById("main").classList.add("read-only");
  for (const id of ["undo", "redo", "split", "trim-in", "trim-out", "delete", "open-export"]) {
    const button = document.getElementById(id);
    if (!button) continue;
    button.disabled = true;
    button.title = `Your role (${role}) does not allow editing`;
    // Undo/redo re-enable themselves on history events; keep them off.
    new MutationObserver(() => {
      if (!button.disabled) button.disabled = true;
    }).observe(button, { attributes: true, attributeFilter: ["disabled"] });
  }
  const name = document.getElementById("project-name");
  if (name && role !== "owner") name.readOnly = true;
  const content = document.getElementById("timeline-content");
  // Capture phase: these never reach the timeline's own editing handlers.
  content.addEventListener(
    "pointerdown",
    (event) => {
      if (event.target.closest(".segment")) event.stopPropagation();
    },
    true,
  );
  content.addEventListener(
    "keydown",
    (event) => {
      if (event.target.closest(".segment") && event.key.startsWith("Arrow")) event.stopPropagation();
    },
    true,
  );
  for (const type of ["dragstart", "dragover", "drop"]) {
    for (const el of [content, document.getElementById("library")]) el.addEventListener(type, (event) => event.stopPropagation(), true);
  }
  window.addEventListener(
    "keydown",
    (event) => {
      if (typing(event.target) || document.querySelector("dialog[open]")) return;
      const mod = event.ctrlKey || event.metaKey;
      if ((mod && ["z", "y", "Z", "Y"].includes(event.key)) || (!mod && EDIT_KEYS.has(event.key))) {
        event.stopPropagation();
        if (!mod) toast(`You are ${role === "viewer" ? "a viewer" : "a commenter"} here: the timeline is read-only.`, { timeout: 2500, id: "read-only" });
      }
    },
    true,
  );
}

export function setupCollaboration({ config, state, timeline, seek, reloadTimeline }) {
  const project = config.project;
  const role = project.role || "owner";
  const me = config.user || null;
  if (RANK[role] < RANK.editor) makeReadOnly(role);

  let side = null;
  const comments = new CommentsPanel({
    projectId: project.id,
    state,
    timeline,
    me,
    role,
    onSeek: seek,
    onShow: () => side.current !== "comments" && side.open("comments"),
    isShown: () => side.current === "comments",
  });
  const history = new HistoryPanel({
    projectId: project.id,
    role,
    onRestored: async () => {
      await reloadTimeline();
    },
  });
  side = new SidePanel({ onTab: (name) => history.show(name === "history") });
  const share = new ShareDialog({ projectId: project.id, project, me, onMembers: (members) => comments.setMembers(members) });

  async function load() {
    try {
      await Promise.all([share.load(), comments.load()]);
    } catch (error) {
      toast(`Comments could not be loaded: ${error.message}`, { level: "error" });
    }
    // A notification's link (#t=12.5) opens the project at a comment's time.
    const match = location.hash.match(/^#t=([\d.]+)$/);
    if (match) {
      seek(Number(match[1]));
      side.open("comments");
    } else if (comments.threads().some((t) => !t.top.resolved) && window.innerWidth >= 1200) {
      side.open("comments");
    }
  }

  return {
    listeners: [(message) => comments.onSocket(message), (message) => history.onSocket(message)],
    load,
  };
}
