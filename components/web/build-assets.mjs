// Compiles GOV.UK Frontend's Sass and copies its JavaScript into dist/, from
// the versions package-lock.json pins; spin.toml's build command runs it after
// `npm ci`, and web-http's build.rs embeds dist/ with fingerprinted names.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import * as sass from "sass";

mkdirSync("dist", { recursive: true });
const css = sass.compile("assets/app.scss", {
  loadPaths: ["node_modules"],
  style: "compressed",
  // GOV.UK Frontend 5 still uses @import and global functions.
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin", "slash-div"],
});
writeFileSync("dist/app.css", css.css);
copyFileSync("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", "dist/govuk-frontend.min.js");
copyFileSync("assets/app.mjs", "dist/app.mjs");
