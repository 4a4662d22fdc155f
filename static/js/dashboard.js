// Dashboard: the user's projects and those shared with them (create, rename, delete, leave),
// posters, pending invitations and the storage meter.
import { api, formatBytes, formatTime, h, listAll, toast } from "./api.js";

const grid = document.getElementById("project-grid");
const empty = document.getElementById("projects-empty");
const createForm = document.getElementById("create-form");
const deleteDialog = document.getElementById("delete-dialog");
let projects = [];
let me = null;

const ICONS = {
  rename: '<svg viewBox="0 0 24 24"><path d="M12 20h9"/><path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z"/></svg>',
  delete: '<svg viewBox="0 0 24 24"><path d="M3 6h18"/><path d="M8 6V4h8v2"/><path d="M19 6l-1 14H6L5 6"/></svg>',
  leave: '<svg viewBox="0 0 24 24"><path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><path d="M16 17l5-5-5-5"/><path d="M21 12H9"/></svg>',
};

function icon(name) {
  // Static markup of our own, never user data.
  const span = document.createElement("span");
  span.innerHTML = ICONS[name];
  return span.firstChild;
}

async function loadStorage() {
  try {
    me = await api("GET", "/api/auth/me");
    const used = Number(me.storage_used) || 0;
    const limit = Number(me.storage_limit) || 0;
    const pct = limit ? Math.min(100, (used / limit) * 100) : 0;
    const meter = document.getElementById("storage-meter");
    document.getElementById("storage-text").textContent = `${formatBytes(used)} of ${formatBytes(limit)}`;
    meter.querySelector(".bar").style.width = used ? `${Math.max(pct, 1)}%` : "0";
    meter.querySelector("[role=progressbar]").setAttribute("aria-valuenow", String(Math.round(pct)));
    meter.classList.toggle("is-high", pct >= 80 && pct < 95);
    meter.classList.toggle("is-full", pct >= 95);
  } catch {
    document.getElementById("storage-text").textContent = "unavailable";
  }
}

function relativeTime(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function card(project) {
  const shared = project.role && project.role !== "owner";
  const poster = h("div", { class: `poster${project.clips_count ? "" : " is-empty"}`, "aria-hidden": "true" });
  const title = h("a", { class: "title", href: `/projects/${project.id}/`, text: project.name });
  const meta = h(
    "div",
    { class: "meta" },
    h("span", { class: `badge badge-${project.status}`, text: project.status }),
    shared ? h("span", { class: "badge badge-role", text: project.role }) : null,
    h("span", { text: `${project.clips_count} clip${project.clips_count === 1 ? "" : "s"}` }),
    h("span", { text: `· ${formatTime(project.total_duration)}` }),
    h("span", { text: `· edited ${relativeTime(project.updated_at)}` }),
  );
  const sharedBy = shared ? h("div", { class: "shared-by", text: `Shared by ${project.owner.name}` }) : null;
  const body = h("div", { class: "body" }, title, meta, sharedBy);
  const actions = h("div", { class: "card-actions" });
  if (shared) {
    const leaveBtn = h("button", { type: "button", class: "btn-icon", "aria-label": `Leave ${project.name}`, title: "Leave" }, icon("leave"));
    leaveBtn.addEventListener("click", () => leave(project));
    actions.append(leaveBtn);
  } else {
    const renameBtn = h("button", { type: "button", class: "btn-icon", "aria-label": `Rename ${project.name}`, title: "Rename" }, icon("rename"));
    const deleteBtn = h("button", { type: "button", class: "btn-icon", "aria-label": `Delete ${project.name}`, title: "Delete" }, icon("delete"));
    renameBtn.addEventListener("click", () => startRename(project, node, title));
    deleteBtn.addEventListener("click", () => confirmDelete(project));
    actions.append(renameBtn, deleteBtn);
  }
  const node = h("article", { class: "card project-card", dataset: { id: project.id } }, poster, body, actions);
  if (project.clips_count) loadPoster(project, poster);
  return node;
}

async function leave(project) {
  if (!me) me = await api("GET", "/api/auth/me");
  if (!window.confirm(`Leave “${project.name}”? ${project.owner.name} can invite you again.`)) return;
  try {
    await api("DELETE", `/api/projects/${project.id}/members/${me.id}`);
    projects = projects.filter((p) => p.id !== project.id);
    render();
    toast("You left the project.", { timeout: 2500 });
  } catch (error) {
    toast(error.message, { level: "error" });
  }
}

async function loadInvitations() {
  const section = document.getElementById("invitations");
  try {
    const pending = await listAll("/api/invitations?page_size=50");
    const items = pending.map((invitation) =>
      h("li", { text: `${invitation.invited_by ? invitation.invited_by.name : "Someone"} invited you to “${invitation.project_name}” as ${invitation.role}. Open the link in the e-mail sent to ${invitation.email} to join.` }),
    );
    section.querySelector("ul").replaceChildren(...items);
    section.hidden = items.length === 0;
  } catch {
    section.hidden = true;
  }
}

async function loadPoster(project, poster) {
  try {
    const page = await api("GET", `/api/projects/${project.id}/clips?page_size=5`);
    const clip = (page.results || []).find((c) => c.thumbnail_url);
    if (clip) poster.style.backgroundImage = `url("${encodeURI(clip.thumbnail_url)}")`;
  } catch {
    /* the placeholder stays */
  }
}

function startRename(project, node, title) {
  const input = h("input", { type: "text", value: project.name, maxlength: "255", "aria-label": "Project name" });
  const form = h("form", { class: "rename-form" }, input, h("button", { type: "submit", class: "btn btn-primary btn-sm", text: "Save" }));
  const cancel = () => form.replaceWith(title);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name || name === project.name) return cancel();
    try {
      const updated = await api("PATCH", `/api/projects/${project.id}`, { json: { name } });
      Object.assign(project, updated);
      title.textContent = updated.name;
      cancel();
      toast("Project renamed.", { level: "success", timeout: 2500 });
    } catch (error) {
      toast(error.message, { level: "error" });
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") cancel();
  });
  title.replaceWith(form);
  input.focus();
  input.select();
}

function confirmDelete(project) {
  document.getElementById("delete-text").textContent =
    `“${project.name}” and its ${project.clips_count} clip(s), timeline and exports will be deleted. This cannot be undone.`;
  deleteDialog.returnValue = "";
  deleteDialog.showModal();
  deleteDialog.onclose = async () => {
    if (deleteDialog.returnValue !== "delete") return;
    try {
      await api("DELETE", `/api/projects/${project.id}`);
      projects = projects.filter((p) => p.id !== project.id);
      render();
      loadStorage();
      toast("Project deleted.", { timeout: 2500 });
    } catch (error) {
      toast(error.message, { level: "error" });
    }
  };
}

function render() {
  grid.replaceChildren(...projects.map(card));
  grid.setAttribute("aria-busy", "false");
  empty.hidden = projects.length > 0;
  grid.hidden = projects.length === 0;
}

createForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = createForm.elements.name;
  const name = input.value.trim();
  if (!name) return;
  const button = createForm.querySelector("button");
  button.disabled = true;
  try {
    const template = createForm.elements.template.value || "blank";
    const project = await api("POST", "/api/projects", { json: { name, template } });
    location.href = `/projects/${project.id}/`;
  } catch (error) {
    toast(error.message, { level: "error" });
    button.disabled = false;
  }
});

async function load() {
  try {
    projects = await listAll("/api/projects?page_size=100");
    render();
  } catch (error) {
    grid.replaceChildren(h("p", { class: "muted", text: `Your projects could not be loaded: ${error.message}` }));
  }
}

// Templates preset a new project's canvas, fit and export settings (GET /api/templates).
async function loadTemplates() {
  const select = createForm.elements.template;
  const help = document.getElementById("template-help");
  let templates = [];
  try {
    templates = await api("GET", "/api/templates");
  } catch {
    return; // "Blank" stays the one choice
  }
  select.replaceChildren(
    ...templates.map((t) => h("option", { value: t.id, text: t.settings.canvas && t.id !== "blank" ? `${t.name} (${t.settings.canvas})` : t.name })),
  );
  const describe = () => {
    const chosen = templates.find((t) => t.id === select.value);
    help.textContent = chosen ? chosen.description : "";
  };
  select.addEventListener("change", describe);
  describe();
}

load();
loadTemplates();
loadStorage();
loadInvitations();
