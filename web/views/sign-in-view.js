// #/sign-in: e-mail and password, then SRP with Cognito (auth.js).

import { byTestId, clearFlags, flagField, setBusy } from "../dom.js";
import { CognitoError } from "../errors.js";

export function createSignInView({ auth, shell, notices, navigate, drafts, onSignedIn }) {
  const form = byTestId("sign-in-form");
  const email = byTestId("sign-in-email");
  const password = byTestId("sign-in-password");

  function refuse(input, text) {
    notices.error(text);
    flagField(input);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFlags(form);
    const address = email.value.trim();
    if (!address) return refuse(email, "Enter your e-mail address.");
    if (!password.value) return refuse(password, "Enter your password.");
    setBusy(form, true);
    notices.info("Signing in…");
    try {
      const result = await auth.signIn(address, password.value);
      password.value = "";
      drafts.email = address;
      if (result.signedIn) onSignedIn();
      else navigate("mfa");
    } catch (error) {
      if (error instanceof CognitoError && error.code === "UserNotConfirmedException") {
        drafts.email = address;
        navigate("confirm", { error: "This account is not confirmed yet. Enter the code we e-mailed you, or send a new one." });
        return;
      }
      shell.fail(error, "sign-in");
      flagField(password);
    } finally {
      setBusy(form, false);
    }
  });

  return {
    show() {
      shell.show("sign-in");
      if (drafts.email && !email.value) email.value = drafts.email;
    },
  };
}
