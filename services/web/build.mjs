// Builds the pages' assets into src/web/static/build/ (git-ignored): the stylesheet, compiled from GOV.UK Frontend's
// Sass without its brand typeface (reserved for GOV.UK services), and GOV.UK Frontend's script as published.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "src/web/static/build");
const frontend = join(here, "node_modules/govuk-frontend/dist/govuk");

mkdirSync(out, { recursive: true });
const css = sass.compile(join(here, "src/web/styles/app.scss"), {
  loadPaths: [join(here, "node_modules")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "app.css"), css.css);
copyFileSync(join(frontend, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
console.log(`web assets: ${out}`);
