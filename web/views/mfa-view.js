// #/mfa: the authenticator-app code Cognito asks for when the account has MFA turned on.

import { byTestId, clearFlags, flagField, setBusy } from "../dom.js";
import { CognitoError } from "../errors.js";

// The challenge's session lasts minutes and allows few tries; after these, start again.
const SESSION_OVER = ["NotAuthorizedException", "ExpiredCodeException"];

export function createMfaView({ auth, shell, notices, navigate, onSignedIn }) {
  const form = byTestId("mfa-form");
  const code = byTestId("mfa-code");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFlags(form);
    const value = code.value.replace(/\s/g, "");
    if (!/^\d{6}$/.test(value)) {
      notices.error("Enter the six digits your authenticator app shows.");
      flagField(code);
      return;
    }
    setBusy(form, true);
    try {
      const result = await auth.answerMfa(value);
      code.value = "";
      if (result.signedIn) onSignedIn();
    } catch (error) {
      code.value = "";
      if (error instanceof CognitoError && SESSION_OVER.includes(error.code)) {
        auth.cancelChallenge();
        navigate("sign-in", { error: "That sign-in has expired. Sign in again." });
        return;
      }
      shell.fail(error, "mfa");
      flagField(code);
    } finally {
      setBusy(form, false);
    }
  });

  byTestId("mfa-cancel").addEventListener("click", () => {
    auth.cancelChallenge();
    code.value = "";
    navigate("sign-in");
  });

  return {
    show() {
      shell.show("mfa");
    },
  };
}
