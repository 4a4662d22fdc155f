// The side panel beside the preview and timeline: a Comments tab and a History tab, opened from
// the header's toggles; Escape inside it closes it and gives focus back to its toggle.
export class SidePanel {
  constructor({ onTab }) {
    this.onTab = onTab;
    this.main = document.getElementById("main");
    this.panel = document.getElementById("side-panel");
    this.tabs = { comments: document.getElementById("tab-comments"), history: document.getElementById("tab-history") };
    this.bodies = { comments: document.getElementById("comments-panel"), history: document.getElementById("history-panel") };
    this.toggles = { comments: document.getElementById("toggle-comments"), history: document.getElementById("toggle-history") };
    this.current = null;
    for (const [name, toggle] of Object.entries(this.toggles)) {
      toggle.addEventListener("click", () => (this.current === name ? this.close() : this.open(name, { focus: true })));
    }
    for (const [name, tab] of Object.entries(this.tabs)) {
      tab.addEventListener("click", () => this.open(name));
      tab.addEventListener("keydown", (event) => {
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        event.preventDefault();
        const other = name === "comments" ? "history" : "comments";
        this.open(other);
        this.tabs[other].focus();
      });
    }
    document.getElementById("side-close").addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      event.preventDefault();
      this.close();
    });
  }

  open(name, { focus = false } = {}) {
    const wasOpen = this.current !== null;
    this.current = name;
    this.panel.hidden = false;
    this.main.classList.add("has-side");
    for (const key of Object.keys(this.tabs)) {
      const on = key === name;
      this.tabs[key].setAttribute("aria-selected", String(on));
      this.tabs[key].tabIndex = on ? 0 : -1;
      this.bodies[key].hidden = !on;
      this.toggles[key].setAttribute("aria-pressed", String(on));
    }
    this.onTab(name);
    if (focus) this.tabs[name].focus();
    // The timeline's width changed: let its observers re-lay it out.
    if (!wasOpen) window.dispatchEvent(new Event("resize"));
  }

  close() {
    const toggle = this.current && this.toggles[this.current];
    const inside = this.panel.contains(document.activeElement);
    this.current = null;
    this.panel.hidden = true;
    this.main.classList.remove("has-side");
    for (const t of Object.values(this.toggles)) t.setAttribute("aria-pressed", "false");
    this.onTab(null);
    if (toggle && inside) toggle.focus();
  }
}
