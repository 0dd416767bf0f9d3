// An allocation followed as it runs: while the run is under way, its progress is asked again of its page's
// /progress fragment every second and put in the page's live region, which screen readers announce; once the run
// is done the asking stops and the result stays. Without this script the page's "Refresh" link does the same.
const region = document.querySelector(".app-allocation[data-progress]");
const PAUSE_MS = 1000;

const done = (element) => !element || element.dataset.done === "true";
const hideRefresh = (element) => {
  for (const link of element.querySelectorAll(".app-progress-refresh")) link.hidden = true;
};

if (region && !done(region.querySelector("#allocation-progress"))) {
  hideRefresh(region);
  const ask = async () => {
    try {
      const answer = await fetch(region.dataset.progress, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (answer.ok) {
        const fragment = new DOMParser().parseFromString(await answer.text(), "text/html");
        const progress = fragment.getElementById("allocation-progress");
        if (progress) {
          hideRefresh(progress);
          region.replaceChildren(document.adoptNode(progress));
          if (done(progress)) return;
        }
      }
    } catch {
      // offline for a moment: ask again
    }
    window.setTimeout(ask, PAUSE_MS);
  };
  window.setTimeout(ask, PAUSE_MS);
}
