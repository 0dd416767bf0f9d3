// The rebuild of the statistics, followed as it runs: while the dashboard's rebuild is under way, its progress is
// asked again of /agency/statistics/rebuild/progress (a fragment of the page) every second and put in its live
// region, which screen readers announce; once the rebuild is done the asking stops and the page offers the new
// figures. Without this script the page's "Refresh" link does the same.
const region = document.querySelector(".app-rebuild[data-progress]");
const PAUSE_MS = 1000;

const done = (element) => !element || element.dataset.done === "true";

if (region && !done(region.querySelector("#rebuild-progress"))) {
  for (const link of region.querySelectorAll(".app-progress-refresh")) link.hidden = true;

  const ask = async () => {
    try {
      const answer = await fetch(region.dataset.progress, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (answer.ok) {
        const fragment = new DOMParser().parseFromString(await answer.text(), "text/html");
        const progress = fragment.getElementById("rebuild-progress");
        if (progress) {
          for (const link of progress.querySelectorAll(".app-progress-refresh")) link.hidden = true;
          region.replaceChildren(document.adoptNode(progress));
          if (done(progress)) {
            const again = document.createElement("p");
            again.className = "govuk-body";
            const link = document.createElement("a");
            link.className = "govuk-link";
            link.href = "/agency/statistics";
            link.textContent = region.dataset.doneLink || "Show the new figures";
            again.append(link);
            region.append(again);
            return;
          }
        }
      }
    } catch {
      // offline for a moment: ask again
    }
    window.setTimeout(ask, PAUSE_MS);
  };
  window.setTimeout(ask, PAUSE_MS);
}
