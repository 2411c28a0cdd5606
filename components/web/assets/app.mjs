// Progressive enhancement only: every page works without this file. It marks
// the body as JavaScript-capable (an inline script would break the CSP) and
// starts GOV.UK Frontend's components. build.rs rewrites the import to the
// fingerprinted file name.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("govuk-frontend-supported");
}
initAll();
