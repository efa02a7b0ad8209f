// What an image from the API means for the page: which thumbnail to show, whether it is
// still being processed, whether labels may still come. Pure functions of an item and a time.

import { parseTimestamp } from "./format.js";

// lambdas/analyze labels only what Rekognition reads; other types never get labels.
export const LABELLED_TYPES = ["image/jpeg", "image/png"];
// A pending item older than this was most likely never uploaded (its record outlives the
// upload URL by a day); one that is ready waits this long for its labels.
export const PROCESSING_WINDOW_MS = 10 * 60_000;
export const LABELS_WINDOW_MS = 5 * 60_000;

function thumbnailSizes(item) {
  return Object.keys(item.thumbnails || {})
    .map(Number)
    .filter((size) => Number.isFinite(size) && size > 0)
    .sort((a, b) => a - b);
}

// The URL of the smallest thumbnail (gallery) or the largest (detail); null while none.
export function thumbnailUrl(item, which) {
  const sizes = thumbnailSizes(item);
  if (!sizes.length) return null;
  const size = which === "largest" ? sizes[sizes.length - 1] : sizes[0];
  return item.thumbnails[String(size)] || null;
}

export function ageMs(item, nowMs) {
  const created = parseTimestamp(item.created_at);
  return Number.isFinite(created) ? nowMs - created : 0;
}

// "processing", "stalled" (pending for too long), "ready" or "failed".
export function phase(item, nowMs) {
  if (item.status === "ready") return "ready";
  if (item.status === "failed") return "failed";
  return ageMs(item, nowMs) > PROCESSING_WINDOW_MS ? "stalled" : "processing";
}

// "labelled", "waiting" (may still come), "unavailable" (never for this type) or "none".
export function labelsState(item, nowMs) {
  if ((item.labels || []).length) return "labelled";
  if (!LABELLED_TYPES.includes(item.content_type)) return "unavailable";
  if (item.status === "failed") return "none";
  return ageMs(item, nowMs) < PROCESSING_WINDOW_MS + LABELS_WINDOW_MS ? "waiting" : "none";
}

export function needsPolling(item, nowMs) {
  const now = phase(item, nowMs);
  return now === "processing" || (now === "ready" && labelsState(item, nowMs) === "waiting");
}

export function title(item) {
  return item.filename || "Untitled photo";
}

// Presigned URLs change with every answer; the object behind them may not have.
export function sameObject(a, b) {
  if (!a || !b) return a === b;
  try {
    const one = new URL(a);
    const two = new URL(b);
    return one.origin === two.origin && one.pathname === two.pathname;
  } catch {
    return a === b;
  }
}
