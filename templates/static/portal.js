// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Confirm destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Progress of background tasks: poll the task's JSON until it ends.
  document.querySelectorAll("[data-task-url]").forEach((box) => {
    const bar = box.querySelector("progress");
    const label = box.querySelector("[data-task-label]");
    const poll = async () => {
      const response = await fetch(box.dataset.taskUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const task = await response.json();
      if (bar && task.total) { bar.max = task.total; bar.value = task.done; }
      if (label) label.textContent = task.message || "";
      if (task.status === "running" || task.status === "queued") {
        setTimeout(poll, 1000);
      } else if (box.dataset.doneUrl) {
        window.location = box.dataset.doneUrl;
      } else {
        window.location.reload();
      }
    };
    poll();
  });
});
