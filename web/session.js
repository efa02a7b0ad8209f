// The signed-in user's tokens: in memory, mirrored to sessionStorage so a reload keeps them
// (and a closed tab forgets them). Knows the id token's claims and when it expires.

import { base64UrlToBytes, utf8Text } from "./bytes.js";

const EARLY_MS = 60_000; // refresh a minute before expiry: clocks and requests take time

export function jwtClaims(token) {
  try {
    return JSON.parse(utf8Text(base64UrlToBytes(token.split(".")[1])));
  } catch {
    return {};
  }
}

export function createSession({ storage, key }) {
  let tokens = read();

  function read() {
    try {
      const saved = JSON.parse(storage.getItem(key) || "null");
      const valid = saved && ["idToken", "accessToken", "refreshToken"].every((name) => typeof saved[name] === "string");
      return valid ? saved : null;
    } catch {
      return null; // storage disabled, or not ours: start signed out
    }
  }

  function write() {
    try {
      if (tokens) storage.setItem(key, JSON.stringify(tokens));
      else storage.removeItem(key);
    } catch {
      // Storage full or disabled: the session lives in memory only, until a reload.
    }
  }

  return {
    get tokens() {
      return tokens;
    },
    get signedIn() {
      return tokens !== null;
    },
    get email() {
      return tokens ? jwtClaims(tokens.idToken).email || "" : "";
    },
    // Cognito's AuthenticationResult; a refresh answer has no RefreshToken: keep the old one.
    save(result) {
      tokens = {
        idToken: result.IdToken,
        accessToken: result.AccessToken,
        refreshToken: result.RefreshToken || (tokens && tokens.refreshToken),
      };
      write();
    },
    clear() {
      tokens = null;
      write();
    },
    fresh(nowMs) {
      const exp = tokens ? Number(jwtClaims(tokens.idToken).exp) : Number.NaN;
      return Number.isFinite(exp) && exp * 1000 - EARLY_MS > nowMs;
    },
  };
}
