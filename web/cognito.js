// Amazon Cognito's user pool API, straight from the browser: one JSON POST per operation.
// The client is public (no secret), so no SECRET_HASH and no AWS signature.

import { CognitoError, NetworkError } from "./errors.js";

const TARGET = "AWSCognitoIdentityProviderService.";

export function createCognito({ endpoint, clientId }) {
  async function call(operation, body) {
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `${TARGET}${operation}`,
        },
        body: JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new NetworkError("cognito");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      // "__type" is "CodeMismatchException", sometimes with a "namespace#" in front.
      const type = String(data.__type || response.headers.get("x-amzn-errortype") || "");
      const code = type.split("#").pop().split(":")[0] || `HTTP ${response.status}`;
      throw new CognitoError(code, data.message || data.Message || "", operation);
    }
    return data;
  }

  return {
    signUp: (email, password) =>
      call("SignUp", {
        ClientId: clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: "email", Value: email }],
      }),
    confirmSignUp: (email, code) =>
      call("ConfirmSignUp", { ClientId: clientId, Username: email, ConfirmationCode: code }),
    resendConfirmationCode: (email) =>
      call("ResendConfirmationCode", { ClientId: clientId, Username: email }),
    startSrp: (email, srpAHex) =>
      call("InitiateAuth", {
        AuthFlow: "USER_SRP_AUTH",
        ClientId: clientId,
        AuthParameters: { USERNAME: email, SRP_A: srpAHex },
      }),
    respond: (challengeName, responses, session) =>
      call("RespondToAuthChallenge", {
        ClientId: clientId,
        ChallengeName: challengeName,
        ChallengeResponses: responses,
        ...(session ? { Session: session } : {}),
      }),
    refresh: (refreshToken) =>
      call("InitiateAuth", {
        AuthFlow: "REFRESH_TOKEN_AUTH",
        ClientId: clientId,
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }),
    globalSignOut: (accessToken) => call("GlobalSignOut", { AccessToken: accessToken }),
    revokeToken: (refreshToken) => call("RevokeToken", { ClientId: clientId, Token: refreshToken }),
  };
}
