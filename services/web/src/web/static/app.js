// The pages work without this script; with it, GOV.UK Frontend's components (the skip link, the error summary's
// focus, the service navigation's menu on narrow screens) do what they do. A module: old browsers skip it.
import { initAll } from "/static/build/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
