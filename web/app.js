// The page's entry point: read /config.json (which `python -m infra publish` writes beside
// this file), build the services from it, mount the views and follow the address's #route.
// A file, not an inline script: the Content-Security-Policy allows scripts from 'self' only.

import { createApi } from "./api.js";
import { createAuth } from "./auth.js";
import { createCognito } from "./cognito.js";
import { loadConfig } from "./config.js";
import { byTestId } from "./dom.js";
import { describe, SESSION_EXPIRED } from "./error-messages.js";
import { createNotices } from "./notices.js";
import { createPhotoService } from "./photo-service.js";
import { createPhotoStore } from "./photo-store.js";
import { createRouter, linkRoutes } from "./router.js";
import { createSession } from "./session.js";
import { createConfirmView } from "./views/confirm-view.js";
import { createGalleryView } from "./views/gallery-view.js";
import { createMfaView } from "./views/mfa-view.js";
import { createPhotoView } from "./views/photo-view.js";
import { createShell } from "./views/shell.js";
import { createSignInView } from "./views/sign-in-view.js";
import { createSignUpView } from "./views/sign-up-view.js";
import { createUploadView } from "./views/upload-view.js";

const SIGNED_OUT_VIEWS = ["sign-in", "sign-up", "confirm", "mfa"];

function tabStorage() {
  try {
    return window.sessionStorage;
  } catch {
    return { getItem: () => null, setItem() {}, removeItem() {} }; // storage turned off
  }
}

function start(config, notices) {
  const session = createSession({ storage: tabStorage(), key: `${config.app}.${config.environment}.session` });
  const cognito = createCognito({ endpoint: config.cognitoEndpoint, clientId: config.userPoolClientId });
  const auth = createAuth({ cognito, session, userPoolId: config.userPoolId });
  const api = createApi({ baseUrl: config.apiUrl, idToken: () => auth.idToken() });
  const store = createPhotoStore();
  const router = createRouter(onRoute);
  let pendingNotice = null; // shown once the next view is up
  const drafts = { email: "", destination: "" }; // what one auth form hands the next

  function navigate(name, { id, info, error, replace } = {}) {
    pendingNotice = info || error ? { info, error } : null;
    router.go(name, { id, replace });
  }

  function signedOut(notice) {
    photos.stop();
    upload.reset();
    shell.setAccount(null);
    navigate("sign-in", notice);
  }

  const shell = createShell({
    config,
    notices,
    onSessionExpired: () => {
      drafts.email = session.email || drafts.email; // sign in again as the same person
      session.clear();
      signedOut({ error: SESSION_EXPIRED });
    },
  });
  const photos = createPhotoService({ api, store, onError: (error, context) => shell.fail(error, context) });
  const onSignedIn = () => {
    shell.setAccount(session.email);
    navigate("photos");
  };
  const deps = { auth, api, config, drafts, navigate, notices, onSignedIn, photos, shell, store };
  const upload = createUploadView(deps);
  const views = {
    "sign-in": createSignInView(deps),
    "sign-up": createSignUpView(deps),
    confirm: createConfirmView(deps),
    mfa: createMfaView(deps),
    photos: createGalleryView(deps),
    photo: createPhotoView(deps),
  };

  function onRoute(route) {
    const signedIn = session.signedIn;
    let name = route.name || (signedIn ? "photos" : "sign-in");
    if (signedIn && SIGNED_OUT_VIEWS.includes(name)) name = "photos";
    if (!signedIn && !SIGNED_OUT_VIEWS.includes(name)) name = "sign-in";
    if (name === "mfa" && !auth.pendingChallenge) name = "sign-in";
    if (name !== route.name) {
      router.go(name, { replace: true }); // comes back here with the notice still pending
      return;
    }
    notices.clear();
    if (pendingNotice && pendingNotice.error) notices.error(pendingNotice.error);
    else if (pendingNotice) notices.info(pendingNotice.info);
    pendingNotice = null;
    views[name].show(route);
  }

  for (const [testId, everywhere] of [["sign-out", false], ["sign-out-everywhere", true]]) {
    const button = byTestId(testId);
    button.addEventListener("click", async () => {
      button.disabled = true;
      const told = await auth.signOut({ everywhere });
      button.disabled = false;
      signedOut(
        told
          ? { info: everywhere ? "You are signed out on every device." : "You are signed out." }
          : { error: "You are signed out on this page, but the sign-in service could not be reached to revoke the session." },
      );
    });
  }

  shell.setAccount(session.signedIn ? session.email : null);
  linkRoutes();
  router.start();
}

const notices = createNotices({ status: byTestId("status"), alert: byTestId("alert") });
loadConfig("/config.json")
  .then((config) => start(config, notices))
  .catch((error) => notices.error(describe(error, "start")));
