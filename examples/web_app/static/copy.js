// Copy buttons: each carries the exact text to copy in data-copy (the full token, even
// where the page shows it shortened). 127.0.0.1 is a secure context, so the Clipboard
// API is there; without it, the text is selected for Ctrl+C.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  } catch {
    const area = document.createElement("textarea");
    area.value = button.dataset.copy;
    button.after(area);
    area.select();
    button.textContent = "Press Ctrl+C";
  }
  button.classList.add("done");
  setTimeout(() => { button.textContent = "Copy"; button.classList.remove("done"); }, 1500);
});
