// What may be uploaded: the types the uploads function allows and the size its presigned
// POST allows. The size limit is in the POST policy the API signs (content-length-range),
// so it is known for certain only after POST /uploads, unless config.json carries it.

import { base64ToBytes, utf8Text } from "./bytes.js";
import { FileRejectedError } from "./errors.js";

const MAX_FILENAME_CHARS = 255; // lambdas/uploads: MAX_FILENAME_CHARS
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

export function checkFile(file, { allowedTypes, maxBytes }) {
  if (!file) {
    throw new FileRejectedError("none");
  }
  const type = (file.type || "").toLowerCase();
  if (!allowedTypes.includes(type)) {
    throw new FileRejectedError("type", { name: file.name, type, allowed: allowedTypes });
  }
  checkSize(file, maxBytes);
  return type;
}

export function checkSize(file, maxBytes) {
  if (file.size === 0) {
    throw new FileRejectedError("empty", { name: file.name });
  }
  if (maxBytes && file.size > maxBytes) {
    throw new FileRejectedError("size", { name: file.name, size: file.size, limit: maxBytes });
  }
}

// The presigned POST's policy (base64 JSON): its size range and when it expires, or null.
export function policyLimits(fields) {
  const encoded = fields && (fields.policy || fields.Policy);
  if (typeof encoded !== "string") {
    return null;
  }
  try {
    const policy = JSON.parse(utf8Text(base64ToBytes(encoded)));
    const range = (policy.conditions || []).find(
      (condition) => Array.isArray(condition) && condition[0] === "content-length-range",
    );
    return {
      minBytes: range ? Number(range[1]) : null,
      maxBytes: range ? Number(range[2]) : null,
      expiresAt: Date.parse(policy.expiration),
    };
  } catch {
    return null;
  }
}

// The display name POST /uploads accepts: printable, 1..255 characters; null for none.
export function uploadFilename(name) {
  const clean = [...String(name || "").replace(CONTROL_CHARS, "").trim()].slice(0, MAX_FILENAME_CHARS).join("");
  return clean.trim() || null;
}
