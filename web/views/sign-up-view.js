// #/sign-up: e-mail and a password checked against the pool's policy before SignUp is sent.

import { byTestId, clearFlags, el, flagField, setBusy } from "../dom.js";
import { RULES, unmetRules } from "../password-policy.js";

export function createSignUpView({ auth, shell, notices, navigate, drafts }) {
  const form = byTestId("sign-up-form");
  const email = byTestId("sign-up-email");
  const password = byTestId("sign-up-password");
  const rules = new Map(
    [...byTestId("password-rules").querySelectorAll("li[data-rule]")].map((item) => {
      const state = el("span", { class: "visually-hidden" });
      item.append(state);
      return [item.dataset.rule, { item, state }];
    }),
  );

  function showRules() {
    const unmet = new Set(unmetRules(password.value));
    for (const [id, { item, state }] of rules) {
      const met = password.value !== "" && !unmet.has(id);
      item.classList.toggle("met", met);
      state.textContent = met ? " (done)" : " (missing)";
    }
  }

  password.addEventListener("input", showRules);
  byTestId("sign-up-show-password").addEventListener("change", (event) => {
    password.type = event.target.checked ? "text" : "password";
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFlags(form);
    const address = email.value.trim();
    if (!address || email.validity.typeMismatch) {
      notices.error("Enter a valid e-mail address.");
      flagField(email);
      return;
    }
    const unmet = unmetRules(password.value);
    if (unmet.length) {
      const needs = RULES.filter((rule) => unmet.includes(rule.id)).map((rule) => rule.text.toLowerCase());
      notices.error(
        unmet.includes("max-length")
          ? "The password is too long: use at most 256 characters."
          : `The password needs: ${needs.join("; ")}.`,
      );
      flagField(password);
      return;
    }
    setBusy(form, true);
    notices.info("Creating your account…");
    try {
      const result = await auth.signUp(address, password.value);
      password.value = "";
      showRules();
      drafts.email = address;
      if (result.UserConfirmed) {
        navigate("sign-in", { info: "Your account is ready. Sign in." });
        return;
      }
      const destination = result.CodeDeliveryDetails && result.CodeDeliveryDetails.Destination;
      drafts.destination = destination || "";
      navigate("confirm", { info: `We e-mailed a code to ${destination || address}. Enter it to confirm your account.` });
    } catch (error) {
      shell.fail(error, "sign-up");
    } finally {
      setBusy(form, false);
    }
  });

  return {
    show() {
      shell.show("sign-up");
      if (drafts.email && !email.value) email.value = drafts.email;
      showRules();
    },
  };
}
