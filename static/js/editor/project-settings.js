// The project settings popover: canvas shape and the default fit of new segments
// (PATCH /api/projects/:id `settings`, which replaces the whole object: send it merged).
import { api, h, toast } from "../api.js";

export const CANVASES = [
  ["16:9", "Landscape", "YouTube video"],
  ["9:16", "Portrait", "Shorts, Reels, TikTok"],
  ["1:1", "Square", "Feed posts"],
  ["4:5", "Vertical 4:5", "Instagram feed"],
];
export const FITS = [
  ["fit", "Fit — whole picture, bars"],
  ["fill", "Fill — crop to fill"],
  ["blur", "Blurred fill — fit over a blurred copy"],
];

export function setupProjectSettings({ state, projectId }) {
  const button = document.getElementById("open-settings");
  const pop = document.getElementById("settings-popover");
  const canvasGroup = document.getElementById("settings-canvas");
  const fitSelect = document.getElementById("settings-fit");
  const error = document.getElementById("settings-error");
  const label = document.getElementById("canvas-label");

  canvasGroup.replaceChildren(
    ...CANVASES.map(([value, name, use]) => {
      const [w, hgt] = value.split(":").map(Number);
      const scale = 22 / Math.max(w, hgt);
      const shape = h("span", { class: "canvas-shape", style: { width: `${Math.round(w * scale)}px`, height: `${Math.round(hgt * scale)}px` } });
      return h(
        "label",
        { class: "choice canvas-choice" },
        h("input", { type: "radio", name: "canvas", value, id: `canvas-${value.replace(":", "x")}` }),
        h("span", {}, shape, h("b", { text: value }), h("small", { text: `${name} · ${use}` })),
      );
    }),
  );
  fitSelect.replaceChildren(...FITS.map(([value, text]) => h("option", { value, text })));

  const current = () => state.project.settings || {};
  const show = () => {
    const settings = current();
    const canvas = settings.canvas || "16:9";
    for (const input of canvasGroup.querySelectorAll("input")) input.checked = input.value === canvas;
    fitSelect.value = settings.fit || "blur";
    label.textContent = canvas;
  };
  show();

  async function save(patch) {
    error.hidden = true;
    try {
      const project = await api("PATCH", `/api/projects/${projectId}`, { json: { settings: { ...current(), ...patch } } });
      state.project = { ...state.project, ...project };
      state.emit("project", { settings: state.project.settings });
      toast(`Project settings saved${patch.canvas ? `: canvas ${patch.canvas}` : ""}.`, { level: "success", timeout: 2000, id: "settings" });
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
    show();
  }
  canvasGroup.addEventListener("change", (event) => save({ canvas: event.target.value }));
  fitSelect.addEventListener("change", () => save({ fit: fitSelect.value }));

  // Next to its button (above it when there is no room below), inside the window.
  const place = () => {
    const rect = button.getBoundingClientRect();
    const height = pop.offsetHeight;
    const below = rect.bottom + 6 + height <= window.innerHeight;
    pop.style.top = `${Math.max(8, below ? rect.bottom + 6 : rect.top - 6 - height)}px`;
    pop.style.right = `${Math.max(8, window.innerWidth - rect.right)}px`;
  };
  window.addEventListener("resize", () => pop.hidden || place());

  const close = () => {
    pop.hidden = true;
    button.setAttribute("aria-expanded", "false");
  };
  button.addEventListener("click", () => {
    const open = pop.hidden;
    pop.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) {
      const readOnly = document.getElementById("main")?.classList.contains("read-only");
      for (const input of pop.querySelectorAll("input, select")) input.disabled = Boolean(readOnly);
      place();
      show();
      canvasGroup.querySelector("input:checked")?.focus();
    }
  });
  pop.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
      button.focus();
    }
  });
  document.getElementById("settings-close").addEventListener("click", close);
  document.addEventListener("pointerdown", (event) => {
    if (!pop.hidden && !pop.contains(event.target) && !button.contains(event.target)) close();
  });
}
