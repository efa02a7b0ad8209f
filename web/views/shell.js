// The page's frame: which view shows, where focus goes when it changes, the account bar,
// and how a failure is told (a message, or "session expired" and back to sign-in).

import { byTestId } from "../dom.js";
import { describe } from "../error-messages.js";
import { PageError, SessionExpiredError } from "../errors.js";

export function createShell({ config, notices, onSessionExpired }) {
  const sections = [...document.querySelectorAll("[data-view]")];
  const account = byTestId("account");
  const accountEmail = byTestId("account-email");

  byTestId("app-name").textContent = config.app;
  byTestId("environment").textContent = config.environment;

  return {
    // Shows one view, moves focus to its heading so keyboard and screen-reader users land there.
    show(name, heading) {
      for (const section of sections) {
        section.hidden = section.dataset.view !== name;
      }
      const section = sections.find((candidate) => candidate.dataset.view === name);
      const title = section ? section.querySelector("h1") : null;
      document.title = `${heading || (title ? title.textContent : name)} · ${config.app} (${config.environment})`;
      if (title) title.focus({ preventScroll: false });
    },
    setAccount(email) {
      account.hidden = !email;
      accountEmail.textContent = email ? `Signed in as ${email}` : "";
    },
    // Every view reports its failures here; `context` picks the wording (error-messages.js).
    fail(error, context) {
      if (error instanceof SessionExpiredError) {
        onSessionExpired();
        return;
      }
      if (!(error instanceof PageError)) {
        console.error(error); // a bug, not a failure the page knows: keep its stack
      }
      notices.error(describe(error, context));
    },
  };
}
