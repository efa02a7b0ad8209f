// One sentence for every failure, in the words a person needs: what happened, what to do.

import {
  ApiError,
  CognitoError,
  ConfigError,
  FileRejectedError,
  NetworkError,
  SessionExpiredError,
  UnsupportedChallengeError,
  UploadRefusedError,
} from "./errors.js";
import { formatBytes, listOf } from "./format.js";

export const SESSION_EXPIRED = "Your session has expired. Sign in again.";
const TOO_MANY = "Too many attempts. Wait a few minutes, then try again.";
const WRONG_LOGIN = "Wrong e-mail address or password.";

const UNREACHABLE = {
  api: "Could not reach the photo service. Check your connection and try again.",
  cognito: "Could not reach the sign-in service. Check your connection and try again.",
  storage: "Could not reach the photo storage to upload the file. Check your connection and try again.",
};

const TYPE_NAMES = { "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF" };

export function typeNames(types) {
  return listOf(types.map((type) => TYPE_NAMES[type] || type));
}

// `context` is what was being done: "sign-in", "sign-up", "confirm", "resend", "mfa",
// "sign-out", "upload", "photos", "photo" or "delete".
export function describe(error, context) {
  if (error instanceof SessionExpiredError) return SESSION_EXPIRED;
  if (error instanceof NetworkError) return UNREACHABLE[error.service] || UNREACHABLE.api;
  if (error instanceof FileRejectedError) return fileText(error);
  if (error instanceof UploadRefusedError) return storageText(error);
  if (error instanceof CognitoError) return cognitoText(error, context);
  if (error instanceof ApiError) return apiText(error, context);
  if (error instanceof UnsupportedChallengeError) {
    return `This account needs a sign-in step this page cannot do yet (${error.challenge}).`;
  }
  if (error instanceof ConfigError) return `The page could not start: ${error.message}.`;
  return `Something went wrong: ${error && error.message ? error.message : error}`;
}

function fileText({ reason, details }) {
  const name = details.name ? `“${details.name}”` : "The file";
  switch (reason) {
    case "none":
      return "Choose a photo to upload first.";
    case "type":
      return `${name} is ${details.type ? `of type ${details.type}` : "of an unknown type"}: choose a ${typeNames(details.allowed)} image.`;
    case "size":
      return `${name} is ${formatBytes(details.size)}: the largest upload allowed is ${formatBytes(details.limit)}.`;
    case "empty":
      return `${name} is empty.`;
    default:
      return `${name} cannot be uploaded.`;
  }
}

function storageText({ code, message, details }) {
  if (code === "EntityTooLarge") {
    const limit = Number(details.maxSizeAllowed);
    return Number.isFinite(limit) && limit > 0
      ? `The storage refused the file: it is larger than the ${formatBytes(limit)} limit.`
      : "The storage refused the file: it is larger than the upload limit.";
  }
  if (code === "EntityTooSmall") return "The storage refused the file: it is empty.";
  if (code === "AccessDenied" && /expired/i.test(message || "")) {
    return "The upload permission expired before the file arrived. Upload it again.";
  }
  if (code === "AccessDenied" && /condition failed/i.test(message || "")) {
    return `The storage refused the file: it does not match what the upload allows (${message}).`;
  }
  const what = [code, message].filter(Boolean).join(": ");
  return `The storage refused the upload${what ? ` (${what})` : ""}. Try again.`;
}

function cognitoText({ code, message }, context) {
  switch (code) {
    case "UsernameExistsException":
      return "An account with this e-mail address already exists. Sign in, or confirm it with the code we e-mailed you.";
    case "UserNotConfirmedException":
      return "This account is not confirmed yet. Enter the code we e-mailed you.";
    case "NotAuthorizedException":
      if (/attempts exceeded/i.test(message)) return TOO_MANY;
      if (context === "confirm" || context === "resend") {
        return /CONFIRMED/.test(message)
          ? "This account is already confirmed. Sign in."
          : `This account cannot be confirmed: ${message}`;
      }
      if (context === "sign-in" || context === "mfa") return WRONG_LOGIN;
      return SESSION_EXPIRED;
    case "UserNotFoundException":
      return context === "sign-in" ? WRONG_LOGIN : "No account has this e-mail address. Create one first.";
    case "CodeMismatchException":
      return context === "mfa"
        ? "That code is not right. Enter the current code from your authenticator app."
        : "That code is not right. Check the e-mail we sent and try again.";
    case "ExpiredCodeException":
      return context === "mfa"
        ? "That code has expired. Sign in again."
        : "That code has expired. Send a new one and use the code in the latest e-mail.";
    case "InvalidPasswordException":
      return `The password does not meet the policy: ${message.replace(/^Password did not conform with policy:\s*/i, "")}`;
    case "InvalidParameterException":
      return /email|username/i.test(message) && context === "sign-up"
        ? "Enter a valid e-mail address."
        : `The sign-in service refused the request: ${message}`;
    case "TooManyRequestsException":
    case "LimitExceededException":
    case "TooManyFailedAttemptsException":
      return TOO_MANY;
    case "CodeDeliveryFailureException":
      return "We could not send the e-mail with your code. Try again later.";
    case "PasswordResetRequiredException":
      return "This account's password must be reset before you can sign in.";
    default:
      return `The sign-in service refused the request (${code}${message && message !== code ? `: ${message}` : ""}).`;
  }
}

function apiText({ status, message }, context) {
  if (status === 404) {
    return context === "photo" || context === "delete" ? "This photo no longer exists." : "The photo service has no such page.";
  }
  if (status === 400) return `The photo service refused the request: ${message}`;
  if (status === 403) return "The photo service does not allow this.";
  if (status === 429) return "The photo service is busy. Wait a moment and try again.";
  if (status >= 500) return `The photo service had a problem (HTTP ${status}). Try again in a moment.`;
  return `The photo service answered HTTP ${status}: ${message}`;
}
