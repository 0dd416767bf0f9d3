// The programme form's cost, computed by catalog as the form is filled: when the programme group or the total hours
// change, the cost part of the page is asked again of /institution/programmes/cost (a fragment, after a pause in
// typing) and put in its live region, which screen readers announce. Without this script the "Calculate the cost"
// button does the same by sending the form.
const form = document.getElementById("programme-form");
const region = document.getElementById("cost");

if (form && region) {
  const fields = ["programme_group", "total_hours"].map((name) => form.elements.namedItem(name)).filter(Boolean);
  let timer = 0;
  let asked = 0;

  const update = async () => {
    const ask = ++asked;
    const body = new URLSearchParams();
    body.set("csrf_token", form.elements.namedItem("csrf_token").value);
    for (const field of fields) body.set(field.name, field.value);
    try {
      const answer = await fetch(region.dataset.costUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (answer.ok && ask === asked) region.innerHTML = await answer.text(); // a later answer wins, not a slow one
    } catch {
      // offline for a moment: the button still computes it
    }
  };

  const soon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 400);
  };
  for (const field of fields) {
    field.addEventListener("input", soon);
    field.addEventListener("change", soon);
  }
}
