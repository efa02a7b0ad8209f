// How sizes, times and confidences read on the page.

const UNITS = ["bytes", "KB", "MB", "GB"];

// Binary multiples, as the max_upload_mb setting counts them (10 MB = 10 * 1024 * 1024).
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

// The API's created_at has microseconds ("2026-12-02T01:23:45.123456Z"); Date wants ms.
export function parseTimestamp(text) {
  if (typeof text !== "string") {
    return Number.NaN;
  }
  return Date.parse(text.replace(/(\.\d{3})\d+/, "$1"));
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDateTime(ms) {
  return Number.isFinite(ms) ? dateTime.format(new Date(ms)) : "unknown";
}

const percent = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function formatConfidence(confidence) {
  return `${percent.format(Number(confidence))}%`;
}

export function listOf(words) {
  if (words.length < 2) {
    return words.join("");
  }
  return `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}
