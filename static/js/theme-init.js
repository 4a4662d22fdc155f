// Runs before the first paint (a blocking script, since the CSP forbids inline ones) so a
// chosen theme never flashes.
try {
  var theme = localStorage.getItem("theme");
  if (theme) document.documentElement.dataset.theme = theme;
} catch (e) {}
