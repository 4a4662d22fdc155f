// Cycles the colour theme: system → light → dark; remembered in localStorage.
const order = ["", "light", "dark"];
for (const button of document.querySelectorAll("[data-theme-toggle]")) {
  button.addEventListener("click", () => {
    const current = document.documentElement.dataset.theme || "";
    const next = order[(order.indexOf(current) + 1) % order.length];
    if (next) document.documentElement.dataset.theme = next;
    else delete document.documentElement.dataset.theme;
    try {
      if (next) localStorage.setItem("theme", next);
      else localStorage.removeItem("theme");
    } catch {}
    button.title = `Theme: ${next || "system"}`;
  });
}
