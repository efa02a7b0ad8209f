// The site's config.json (written by `python -m infra publish`): fetched once, checked, frozen.
// Everything the page calls comes from here, so one build serves every environment.

import { ConfigError } from "./errors.js";

const REQUIRED = ["app", "environment", "region", "apiUrl", "userPoolId", "userPoolClientId"];
export const DEFAULT_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];

export async function loadConfig(url) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch {
    throw new ConfigError(`${url} could not be fetched`);
  }
  if (!response.ok) {
    throw new ConfigError(`${url}: HTTP ${response.status}`);
  }
  // Unknown paths fall back to index.html, so a missing file can arrive as HTML.
  if (!(response.headers.get("content-type") || "").includes("json")) {
    throw new ConfigError(`${url} is missing: run \`python -m infra publish\``);
  }
  return parseConfig(await response.json());
}

export function parseConfig(raw) {
  if (typeof raw !== "object" || raw === null) {
    throw new ConfigError("config.json is not a JSON object");
  }
  const missing = REQUIRED.filter((key) => typeof raw[key] !== "string" || !raw[key].trim());
  if (missing.length) {
    throw new ConfigError(`config.json lacks ${missing.join(", ")}`);
  }
  return Object.freeze({
    app: raw.app,
    environment: raw.environment,
    region: raw.region,
    apiUrl: withoutTrailingSlash(raw.apiUrl),
    userPoolId: raw.userPoolId,
    userPoolClientId: raw.userPoolClientId,
    cognitoEndpoint: raw.cognitoEndpoint || defaultCognitoEndpoint(raw.region),
    // Optional: known before the first upload only when the site declares them.
    maxUploadBytes: positiveInteger(raw.maxUploadBytes),
    allowedContentTypes: contentTypes(raw.allowedContentTypes),
  });
}

export function defaultCognitoEndpoint(region) {
  const suffix = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return `https://cognito-idp.${region}.${suffix}/`;
}

function withoutTrailingSlash(url) {
  return url.replace(/\/+$/, "");
}

function positiveInteger(value) {
  const number = typeof value === "string" ? Number(value) : value;
  return Number.isSafeInteger(number) && number > 0 ? number : null;
}

function contentTypes(value) {
  const list = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(list)) {
    return DEFAULT_CONTENT_TYPES;
  }
  const types = list.map((type) => String(type).trim().toLowerCase()).filter(Boolean);
  return types.length ? types : DEFAULT_CONTENT_TYPES;
}
