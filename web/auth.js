// Signing up, in and out against the user pool: USER_SRP_AUTH (the password never leaves
// the page), an authenticator-app code when the account asks for one, REFRESH_TOKEN_AUTH
// when the id token runs out, and RevokeToken / GlobalSignOut to end a session.

import { CognitoError, SessionExpiredError, UnsupportedChallengeError } from "./errors.js";
import { largeA, passwordVerifier, SMALL_A_BYTES, smallA, toHex } from "./srp.js";

const randomBytes = (size) => globalThis.crypto.getRandomValues(new Uint8Array(size));

export function createAuth({ cognito, session, userPoolId, random = randomBytes, now = () => new Date() }) {
  let challenge = null; // an MFA step in progress: { name, session, username }
  let refreshing = null; // one refresh at a time, shared by every caller waiting on it

  function settle(answer, username) {
    if (answer.AuthenticationResult) {
      challenge = null;
      session.save(answer.AuthenticationResult);
      return { signedIn: true };
    }
    if (answer.ChallengeName === "SOFTWARE_TOKEN_MFA") {
      challenge = { name: answer.ChallengeName, session: answer.Session, username };
      return { signedIn: false, challenge: answer.ChallengeName };
    }
    challenge = null;
    throw new UnsupportedChallengeError(answer.ChallengeName || "none");
  }

  async function refresh() {
    const tokens = session.tokens;
    if (!tokens || !tokens.refreshToken) {
      session.clear();
      throw new SessionExpiredError();
    }
    try {
      const answer = await cognito.refresh(tokens.refreshToken);
      session.save(answer.AuthenticationResult);
    } catch (error) {
      if (error instanceof CognitoError && error.code === "NotAuthorizedException") {
        session.clear(); // refresh token expired, revoked, or signed out everywhere
        throw new SessionExpiredError();
      }
      throw error;
    }
  }

  return {
    signUp: (email, password) => cognito.signUp(email, password),
    confirmSignUp: (email, code) => cognito.confirmSignUp(email, code),
    resendCode: (email) => cognito.resendConfirmationCode(email),

    // Resolves { signedIn: true } or { signedIn: false, challenge: "SOFTWARE_TOKEN_MFA" }.
    async signIn(email, password) {
      challenge = null;
      const a = smallA(random(SMALL_A_BYTES));
      const started = await cognito.startSrp(email, toHex(largeA(a)));
      if (started.ChallengeName !== "PASSWORD_VERIFIER") {
        return settle(started, email);
      }
      const { responses } = await passwordVerifier({
        userPoolId,
        password,
        challenge: started.ChallengeParameters,
        a,
        date: now(),
      });
      const answer = await cognito.respond("PASSWORD_VERIFIER", responses, started.Session);
      return settle(answer, responses.USERNAME);
    },

    get pendingChallenge() {
      return challenge ? challenge.name : null;
    },

    async answerMfa(code) {
      if (!challenge) {
        throw new SessionExpiredError();
      }
      const { name, username } = challenge;
      const answer = await cognito.respond(
        name,
        { USERNAME: username, SOFTWARE_TOKEN_MFA_CODE: code },
        challenge.session,
      );
      return settle(answer, username);
    },

    cancelChallenge() {
      challenge = null;
    },

    // A current id token for the API, refreshed first when it is about to expire.
    async idToken() {
      if (!session.signedIn) {
        throw new SessionExpiredError();
      }
      if (!session.fresh(now().getTime())) {
        refreshing = refreshing || refresh().finally(() => (refreshing = null));
        await refreshing;
      }
      return session.tokens.idToken;
    },

    // Ends the session here (RevokeToken) or on every device (GlobalSignOut). The tokens are
    // forgotten whatever Cognito answers; resolves false when Cognito could not be told.
    async signOut({ everywhere = false } = {}) {
      const tokens = session.tokens;
      challenge = null;
      if (!tokens) return true;
      try {
        if (everywhere) {
          if (!session.fresh(now().getTime())) {
            await refresh(); // GlobalSignOut needs a live access token
          }
          await cognito.globalSignOut(session.tokens.accessToken);
        } else {
          await cognito.revokeToken(tokens.refreshToken);
        }
        return true;
      } catch (error) {
        return error instanceof SessionExpiredError; // a dead refresh token: nothing to end
      } finally {
        session.clear();
      }
    },
  };
}
