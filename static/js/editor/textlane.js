// Titles and captions: "Add text" with ready-made title styles (a 3 s text segment at the
// playhead), importing SRT/WebVTT subtitles as caption segments, downloading them back.
import { api, h, toast } from "../api.js";
import { diff, newKey } from "./state.js";

export const TEXT_DURATION = 3;

// Ready-made styles; `text` is a whole API `text` object (API.md "Canvas, sound, text, …").
export const TITLE_STYLES = [
  {
    id: "title",
    name: "Title",
    hint: "Big, bold, centred",
    text: { content: "Your title", font: "inter-bold", size: 120, color: "#FFFFFF", background: null, x: 0.5, y: 0.5, align: "center" },
  },
  {
    id: "lower-third",
    name: "Lower third",
    hint: "Name on a box, bottom left",
    text: { content: "Name Surname", font: "inter-bold", size: 56, color: "#FFFFFF", background: "#6D5DFCE6", x: 0.06, y: 0.8, align: "left" },
  },
  {
    id: "subtitle",
    name: "Subtitle-like",
    hint: "Plain text on a dark box, bottom",
    text: { content: "Something said", font: "inter", size: 48, color: "#FFFFFF", background: "#000000B3", x: 0.5, y: 0.88, align: "center" },
  },
  {
    id: "headline",
    name: "Headline",
    hint: "Condensed capitals, top",
    text: { content: "BREAKING", font: "bebas-neue", size: 140, color: "#FFD43B", background: null, x: 0.5, y: 0.18, align: "center" },
  },
];

export function setupTextLane({ state, projectId, autosave, timeline }) {
  const addButton = document.getElementById("add-text");
  const menu = document.getElementById("text-styles");

  menu.replaceChildren(
    ...TITLE_STYLES.map((style) =>
      h(
        "button",
        { type: "button", class: "style-choice", role: "menuitem", dataset: { style: style.id } },
        h("strong", { text: style.name }),
        h("small", { text: style.hint }),
      ),
    ),
  );

  const closeMenu = () => {
    menu.hidden = true;
    addButton.setAttribute("aria-expanded", "false");
  };
  addButton.addEventListener("click", () => {
    const open = menu.hidden;
    menu.hidden = !open;
    addButton.setAttribute("aria-expanded", String(open));
    if (open) menu.querySelector("button")?.focus();
  });
  menu.addEventListener("keydown", (event) => {
    const items = [...menu.querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.stopPropagation();
      closeMenu();
      addButton.focus();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      items[(at + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
    }
  });
  document.addEventListener("pointerdown", (event) => {
    if (!menu.hidden && !menu.contains(event.target) && event.target !== addButton && !addButton.contains(event.target)) closeMenu();
  });
  menu.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-style]");
    if (!choice) return;
    const style = TITLE_STYLES.find((s) => s.id === choice.dataset.style);
    closeMenu();
    addText(style);
  });

  function addText(style) {
    const seg = {
      key: newKey(),
      clip_id: null,
      name: style.name,
      layer: "text",
      start_time: Math.round(state.playhead * 1000) / 1000,
      source_start: 0,
      duration: TEXT_DURATION,
      volume: 1,
      fade_in: 0,
      fade_out: 0,
      fit: null,
      transition: null,
      duck: false,
      text: { ...style.text },
    };
    state.commit((segments) => {
      segments.push(seg);
    });
    state.select(seg.key);
    timeline.focusSegment(seg.key);
    document.getElementById("insp-content")?.select();
  }

  // ---- captions ------------------------------------------------------------------------------
  const fileInput = document.getElementById("captions-file");
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    try {
      // The import replaces the caption lane as one version: pending edits go first.
      await autosave.saveNow();
      const before = state.snapshot();
      const body = new FormData();
      body.append("file", file);
      await api("POST", `/api/projects/${projectId}/captions/import`, { body });
      await autosave.reload();
      // Ctrl+Z takes the import back like any own edit: its inverse operations.
      const ops = diff(before, state.segments);
      if (ops.length) state.undoStack.push(ops);
      state.emit("history");
      const count = state.segments.filter((s) => s.layer === "caption").length;
      toast(`Imported ${file.name}: ${count} caption${count === 1 ? "" : "s"} on the caption lane.`, { level: "success", timeout: 4000 });
    } catch (error) {
      toast(`${file.name} was not imported: ${error.message}`, { level: "error", timeout: 9000 });
    }
  });
  for (const ext of ["srt", "vtt"]) {
    const link = document.getElementById(`captions-${ext}`);
    if (link) link.href = `/api/projects/${projectId}/captions.${ext}`;
  }
}
