// Keeps the photo store in step with the API: pages of GET /images, one image refetched
// while its functions work (polled with backoff), deletes. Errors go to `onError`
// (the shell: a message, or "session expired") unless the caller handles them.

import { ApiError, SessionExpiredError } from "./errors.js";
import { needsPolling } from "./photo.js";
import { createPoller } from "./poller.js";

export function createPhotoService({ api, store, onError, now = Date.now, timers = globalThis }) {
  const poller = createPoller({
    timers,
    now,
    check: async (id) => {
      try {
        const item = await refresh(id);
        return item !== null && needsPolling(item, now());
      } catch (error) {
        if (error instanceof SessionExpiredError) {
          onError(error, "photos");
          return false;
        }
        throw error; // passing trouble: the poller tries again later
      }
    },
    onGiveUp: (id) => store.markGaveUp(id),
  });

  function watchIfNeeded(item) {
    if (needsPolling(item, now())) poller.watch(item.image_id);
  }

  // The image as the API has it now; null (and gone from the store) when it no longer exists.
  async function refresh(id) {
    try {
      const item = await api.getImage(id);
      store.upsert(item);
      return item;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        poller.stop(id);
        store.remove(id);
        return null;
      }
      throw error;
    }
  }

  async function loadPage(append) {
    const page = await api.listImages({ next: append ? store.next : null });
    if (!append) poller.stopAll();
    store.setPage(page, { append });
    page.items.forEach(watchIfNeeded);
  }

  return {
    loadFirstPage: () => loadPage(false),
    loadMore: () => loadPage(true),
    refresh,
    follow: watchIfNeeded,
    // After an upload reached the bucket: show it at the top and follow it until it is done.
    async added(placeholder) {
      store.upsert(placeholder, { first: true });
      try {
        const item = await refresh(placeholder.image_id);
        if (item) watchIfNeeded(item);
      } catch {
        watchIfNeeded(placeholder); // the poller keeps asking
      }
    },
    // Ask again about an image whose polling stopped ("check again").
    rewatch(id) {
      const item = store.get(id);
      if (!item) return;
      store.upsert(item);
      poller.stop(id);
      poller.watch(id);
    },
    async remove(id) {
      poller.stop(id);
      try {
        await api.deleteImage(id);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      store.remove(id);
    },
    stop() {
      poller.stopAll();
      store.reset();
    },
  };
}
