// #/confirm: the code Cognito e-mailed at sign-up (ConfirmSignUp), or a new one.

import { byTestId, clearFlags, flagField, setBusy } from "../dom.js";

export function createConfirmView({ auth, shell, notices, navigate, drafts }) {
  const form = byTestId("confirm-form");
  const email = byTestId("confirm-email");
  const code = byTestId("confirm-code");
  const destination = byTestId("confirm-destination");

  function address() {
    const value = email.value.trim();
    if (!value || email.validity.typeMismatch) {
      notices.error("Enter the e-mail address you signed up with.");
      flagField(email);
      return null;
    }
    return value;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFlags(form);
    const who = address();
    if (!who) return;
    const value = code.value.replace(/\s/g, "");
    if (!value) {
      notices.error("Enter the code from the e-mail.");
      flagField(code);
      return;
    }
    setBusy(form, true);
    try {
      await auth.confirmSignUp(who, value);
      code.value = "";
      drafts.email = who;
      navigate("sign-in", { info: "Your account is confirmed. Sign in." });
    } catch (error) {
      shell.fail(error, "confirm");
      flagField(code);
    } finally {
      setBusy(form, false);
    }
  });

  byTestId("confirm-resend").addEventListener("click", async () => {
    clearFlags(form);
    const who = address();
    if (!who) return;
    setBusy(form, true);
    try {
      const result = await auth.resendCode(who);
      const where = (result.CodeDeliveryDetails && result.CodeDeliveryDetails.Destination) || who;
      notices.info(`We e-mailed a new code to ${where}.`);
      code.focus();
    } catch (error) {
      shell.fail(error, "resend");
    } finally {
      setBusy(form, false);
    }
  });

  return {
    show() {
      shell.show("confirm");
      if (drafts.email && !email.value) email.value = drafts.email;
      destination.textContent = drafts.destination
        ? `Enter the code we e-mailed to ${drafts.destination}.`
        : "Enter the code we e-mailed you.";
    },
  };
}
