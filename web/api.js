// The photos HTTP API (lambdas/uploads, lambdas/images), called with the id token.
// API Gateway's JWT authorizer reads `Authorization: Bearer <token>`; its 401 means the
// token is no longer accepted, which the page treats as an expired session.

import { ApiError, NetworkError, SessionExpiredError } from "./errors.js";

export const PAGE_SIZE = 20; // GET /images takes 1..100; 20 is its default too

export function createApi({ baseUrl, idToken }) {
  async function request(method, path, { body, query } = {}) {
    const token = await idToken();
    const url = new URL(`${baseUrl}${path}`);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new NetworkError("api");
    }
    if (response.status === 401) {
      throw new SessionExpiredError();
    }
    if (response.status === 204) {
      return null;
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, data && typeof data.message === "string" ? data.message : "");
    }
    if (data === null || typeof data !== "object") {
      throw new ApiError(response.status, "the answer was not JSON");
    }
    return data;
  }

  return {
    // 201 { image_id, upload: { url, fields } }: a presigned POST for exactly this file type.
    createUpload: ({ contentType, filename }) =>
      request("POST", "/uploads", {
        body: filename ? { content_type: contentType, filename } : { content_type: contentType },
      }),
    // 200 { items: [image], next: token | null }, newest first.
    listImages: ({ next = null, limit = PAGE_SIZE } = {}) => request("GET", "/images", { query: { limit, next } }),
    // 200 image: { image_id, status, content_type, filename, created_at, labels, thumbnails,
    // failure_reason }; 404 when it is not the caller's (or gone).
    getImage: (id) => request("GET", `/images/${encodeURIComponent(id)}`),
    // 204; 404 when already gone.
    deleteImage: (id) => request("DELETE", `/images/${encodeURIComponent(id)}`),
  };
}
