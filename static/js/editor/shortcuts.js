// The shortcut sheet (`?`) and J/K/L shuttle. The sheet lists the keys main.js's keydown
// handler and the timeline really handle; keep the two in step.
import { h } from "../api.js";

export const SHORTCUTS = [
  ["Playback", [
    [["Space"], "Play / pause"],
    [["J"], "Play backwards (shuttle)"],
    [["K"], "Stop"],
    [["L"], "Play forwards"],
    [["←", "→"], "Move the playhead one frame"],
    [["Shift", "←/→"], "Move the playhead one second"],
    [["Home"], "Go to the start"],
    [["End"], "Go to the end"],
  ]],
  ["Editing", [
    [["S"], "Split at the playhead"],
    [["["], "Trim the start to the playhead"],
    [["]"], "Trim the end to the playhead"],
    [["Delete"], "Delete the selected segment (also Backspace)"],
    [["Ctrl", "Z"], "Undo"],
    [["Ctrl", "Shift", "Z"], "Redo (also Ctrl+Y)"],
    [["Ctrl", "S"], "Save now"],
    [["Esc"], "Deselect"],
  ]],
  ["On a selected segment", [
    [["Tab"], "Go to the next segment"],
    [["←", "→"], "Nudge by 0.1 s"],
    [["Shift", "←/→"], "Nudge by 1 s"],
    [["Enter"], "Move the playhead to its start"],
  ]],
  ["View", [
    [["+"], "Zoom in"],
    [["−"], "Zoom out"],
    [["Ctrl", "wheel"], "Zoom in or out"],
    [["?"], "This list of shortcuts"],
  ]],
];

export function setupShortcuts({ state, player }) {
  const dialog = document.getElementById("shortcuts-dialog");
  const body = document.getElementById("shortcuts-body");
  body.replaceChildren(
    ...SHORTCUTS.map(([title, rows]) =>
      h(
        "section",
        { class: "shortcut-group" },
        h("h3", { text: title }),
        h(
          "dl",
          {},
          rows.flatMap(([keys, what]) => [
            h("dt", {}, keys.flatMap((k, i) => [i ? " + " : null, h("kbd", { text: k })])),
            h("dd", { text: what }),
          ]),
        ),
      ),
    ),
  );
  document.getElementById("open-shortcuts")?.addEventListener("click", () => dialog.showModal());

  // Reverse shuttle: the player plays forwards only, so J steps the playhead back each frame.
  let reverse = null;
  const stopReverse = () => {
    if (reverse) cancelAnimationFrame(reverse.frame);
    reverse = null;
  };
  const stepBack = (now) => {
    if (!reverse) return;
    const dt = (now - reverse.last) / 1000;
    reverse.last = now;
    const t = Math.max(0, state.playhead - dt);
    player.seek(t);
    if (t <= 0) return stopReverse();
    reverse.frame = requestAnimationFrame(stepBack);
  };

  const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) && el.type !== "range";
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "?") {
      if (dialog.open) return;
      if (document.querySelector("dialog[open]")) return;
      event.preventDefault();
      dialog.showModal();
      return;
    }
    if (document.querySelector("dialog[open]")) return;
    const key = event.key.toLowerCase();
    if (key === "k") {
      stopReverse();
      if (player.playing) player.pause();
    } else if (key === "l") {
      stopReverse();
      if (!player.playing) player.play();
    } else if (key === "j") {
      if (player.playing) player.pause();
      if (!reverse) {
        reverse = { last: performance.now(), frame: 0 };
        reverse.frame = requestAnimationFrame(stepBack);
      }
    } else {
      return;
    }
    event.preventDefault();
  });
  // Any other way of moving the playhead (click, keys) ends the reverse shuttle.
  document.addEventListener("pointerdown", stopReverse);
}
