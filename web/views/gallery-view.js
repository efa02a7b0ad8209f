// The gallery on #/photos: the user's photos newest first, a card each, kept in step with
// the store (thumbnails and labels fill in as the poller learns of them).

import { byTestId, el } from "../dom.js";
import { labelsState, phase, sameObject, thumbnailUrl, title } from "../photo.js";
import { routeHash } from "../router.js";

const CARD_LABELS = 3;
const RETRY_MS = 60_000;

export function statusText(item, nowMs, gaveUp) {
  switch (phase(item, nowMs)) {
    case "processing":
      return gaveUp ? "Still processing. Refresh to check again." : "Processing…";
    case "stalled":
      return "Upload not finished";
    case "failed":
      return "Could not be processed";
    default:
      return labelsState(item, nowMs) === "waiting" && !gaveUp ? "Labelling…" : "";
  }
}

export function createGalleryView({ store, photos, shell, notices }) {
  const list = byTestId("gallery-list");
  const loading = byTestId("gallery-loading");
  const empty = byTestId("gallery-empty");
  const more = byTestId("gallery-load-more");
  const refreshButton = byTestId("gallery-refresh");
  const cards = new Map(); // image id -> { item: li, parts }
  let busy = false;

  function createCard(id) {
    const parts = {
      img: el("img", { alt: "", testid: "gallery-thumbnail", hidden: true, decoding: "async" }),
      placeholder: el("div", { class: "placeholder", testid: "gallery-placeholder", "aria-hidden": "true" }),
      title: el("span", { class: "card-title", testid: "gallery-item-title" }),
      status: el("span", { class: "card-status", testid: "gallery-item-status" }),
      labels: el("span", { class: "card-labels", testid: "gallery-item-labels" }),
      failed: false, // the current thumbnail URL did not load
      retriedAt: -Infinity,
    };
    parts.img.addEventListener("load", () => (parts.failed = false));
    // A presigned URL lasts 15 minutes: when one fails, ask the API for a fresh one
    // (at most once a minute, in case the thumbnail itself is what is missing).
    parts.img.addEventListener("error", () => {
      parts.failed = true;
      parts.img.hidden = true;
      parts.placeholder.hidden = false;
      parts.placeholder.textContent = "Thumbnail unavailable";
      if (Date.now() - parts.retriedAt < RETRY_MS) return;
      parts.retriedAt = Date.now();
      photos.refresh(id).catch(() => {});
    });
    const link = el("a", { class: "card-link", href: routeHash("photo", id), testid: "gallery-item-link" }, [
      el("span", { class: "thumb" }, [parts.img, parts.placeholder]),
      parts.title,
      parts.status,
      parts.labels,
    ]);
    const item = el("li", { class: "card", testid: "gallery-item", dataset: { imageId: id } }, [link]);
    return { item, parts };
  }

  function update({ item: card, parts }, item, nowMs) {
    const current = phase(item, nowMs);
    card.dataset.status = current;
    parts.title.textContent = title(item);
    parts.status.textContent = statusText(item, nowMs, store.gaveUp(item.image_id));
    parts.labels.textContent = (item.labels || [])
      .slice(0, CARD_LABELS)
      .map((label) => label.name)
      .join(", ");
    const url = thumbnailUrl(item, "smallest");
    const src = parts.img.getAttribute("src");
    if (url && (!src || !sameObject(src, url) || (parts.failed && src !== url))) {
      parts.img.src = url;
      parts.failed = false;
    }
    const showImage = Boolean(url) && !parts.failed;
    parts.img.hidden = !showImage;
    parts.placeholder.hidden = showImage;
    if (!url) parts.placeholder.textContent = current === "failed" ? "No thumbnail" : "Thumbnail on its way";
  }

  function render() {
    const nowMs = Date.now();
    for (const [id, card] of cards) {
      if (!store.get(id)) {
        card.item.remove();
        cards.delete(id);
      }
    }
    store.items.forEach((item, index) => {
      let card = cards.get(item.image_id);
      if (!card) {
        card = createCard(item.image_id);
        cards.set(item.image_id, card);
      }
      update(card, item, nowMs);
      if (list.children[index] !== card.item) {
        list.insertBefore(card.item, list.children[index] || null);
      }
    });
    empty.hidden = !store.loaded || store.items.length > 0;
    more.hidden = !store.next;
  }

  async function load(append) {
    if (busy) return;
    busy = true;
    list.setAttribute("aria-busy", "true");
    loading.hidden = append || store.loaded;
    more.disabled = true;
    refreshButton.disabled = true;
    try {
      if (append) await photos.loadMore();
      else await photos.loadFirstPage();
      if (append) notices.info(`${store.items.length} photos shown.`);
    } catch (error) {
      shell.fail(error, "photos");
    } finally {
      busy = false;
      list.setAttribute("aria-busy", "false");
      loading.hidden = true;
      more.disabled = false;
      refreshButton.disabled = false;
    }
  }

  store.subscribe(render);
  more.addEventListener("click", () => load(true));
  refreshButton.addEventListener("click", () => load(false));

  return {
    show() {
      shell.show("photos");
      render();
      if (!store.loaded) load(false);
    },
  };
}
