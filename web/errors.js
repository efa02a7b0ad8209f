// The failures the page tells apart. Each says what failed; error-messages.js says it to people.

export class PageError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

// config.json is missing or incomplete: the page cannot start.
export class ConfigError extends PageError {}

// fetch/XHR failed before any answer: offline, DNS, TLS, or a CORS refusal (which browsers
// do not tell apart). `service` is "api", "cognito" or "storage".
export class NetworkError extends PageError {
  constructor(service) {
    super(`could not reach ${service}`);
    this.service = service;
  }
}

// No usable tokens: never signed in, refresh refused, or the API answered 401.
export class SessionExpiredError extends PageError {
  constructor() {
    super("session expired");
  }
}

// The photos API answered with an error status; `message` is its JSON "message".
export class ApiError extends PageError {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

// Cognito's JSON error: `code` is its __type without a namespace ("CodeMismatchException").
export class CognitoError extends PageError {
  constructor(code, message, operation) {
    super(message || code);
    this.code = code;
    this.operation = operation;
  }
}

// Sign-in asked for a step this page does not do (NEW_PASSWORD_REQUIRED, MFA_SETUP, ...).
export class UnsupportedChallengeError extends PageError {
  constructor(challenge) {
    super(`unsupported challenge ${challenge}`);
    this.challenge = challenge;
  }
}

// The page refused a file before sending it: `reason` is "type", "size", "empty" or "none".
export class FileRejectedError extends PageError {
  constructor(reason, details = {}) {
    super(`file refused: ${reason}`);
    this.reason = reason;
    this.details = details;
  }
}

// S3 refused the presigned POST; `code` and `message` come from its XML error.
export class UploadRefusedError extends PageError {
  constructor(status, code, message, details = {}) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}
