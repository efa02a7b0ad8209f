// #/photos/<id>: the larger thumbnail, its labels with confidence, when it was uploaded;
// delete with a confirmation, after which it is gone from the gallery too.

import { byTestId, el } from "../dom.js";
import { formatConfidence, formatDateTime, parseTimestamp } from "../format.js";
import { labelsState, phase, sameObject, thumbnailUrl, title } from "../photo.js";

const STATUS = {
  processing: "Processing: the thumbnail and labels are being made",
  stalled: "Upload not finished: the file never arrived",
  failed: "Could not be processed",
  ready: "Ready",
};

export function createPhotoView({ store, photos, shell, navigate }) {
  const heading = byTestId("photo-title");
  const image = byTestId("photo-image");
  const placeholder = byTestId("photo-placeholder");
  const created = byTestId("photo-created");
  const status = byTestId("photo-status");
  const type = byTestId("photo-type");
  const failure = byTestId("photo-failure");
  const labels = byTestId("photo-labels");
  const labelsNote = byTestId("photo-labels-note");
  const remove = byTestId("photo-delete");
  const dialog = byTestId("delete-dialog");
  const confirm = byTestId("delete-confirm");
  const section = byTestId("view-photo");
  let currentId = null;
  let imageFailed = false;
  let retriedAt = -Infinity;

  image.addEventListener("load", () => (imageFailed = false));
  // Presigned URLs last 15 minutes: a failed one is asked for again, at most once a minute.
  image.addEventListener("error", () => {
    imageFailed = true;
    image.hidden = true;
    placeholder.hidden = false;
    placeholder.textContent = "Thumbnail unavailable";
    if (currentId === null || Date.now() - retriedAt < 60_000) return;
    retriedAt = Date.now();
    photos.refresh(currentId).catch(() => {});
  });

  function render(item) {
    const nowMs = Date.now();
    const current = phase(item, nowMs);
    heading.textContent = title(item);
    section.dataset.status = current;
    const createdMs = parseTimestamp(item.created_at);
    created.dateTime = Number.isFinite(createdMs) ? new Date(createdMs).toISOString() : "";
    created.textContent = formatDateTime(createdMs);
    status.textContent = STATUS[current];
    type.textContent = item.content_type || "unknown";
    failure.hidden = !item.failure_reason;
    failure.textContent = item.failure_reason ? `Why: ${item.failure_reason}` : "";

    const url = thumbnailUrl(item, "largest");
    const src = image.getAttribute("src");
    if (url && (!src || !sameObject(src, url) || (imageFailed && src !== url))) {
      image.src = url;
      imageFailed = false;
    }
    image.alt = title(item);
    image.hidden = !url || imageFailed;
    placeholder.hidden = !image.hidden;
    if (!url) {
      placeholder.textContent = current === "failed" ? "No thumbnail: the image could not be processed" : "Thumbnail not ready yet";
    }

    labels.replaceChildren(
      ...(item.labels || []).map((label) =>
        el("li", { testid: "photo-label", dataset: { name: label.name } }, [
          el("span", { class: "label-name", text: label.name }),
          el("span", { class: "label-confidence", testid: "photo-label-confidence", text: formatConfidence(label.confidence) }),
        ]),
      ),
    );
    const notes = {
      waiting: store.gaveUp(item.image_id) ? "No labels yet. Come back later." : "Labels are on their way…",
      unavailable: `Labels are not made for ${item.content_type || "this type of"} images.`,
      none: "No labels were found.",
    };
    const state = labelsState(item, nowMs);
    labelsNote.hidden = state === "labelled";
    labelsNote.textContent = notes[state] || "";
  }

  function clear() {
    imageFailed = false;
    heading.textContent = "Photo";
    image.hidden = true;
    image.removeAttribute("src");
    placeholder.hidden = false;
    placeholder.textContent = "Loading…";
    for (const node of [created, status, type, failure, labelsNote]) node.textContent = "";
    labels.replaceChildren();
  }

  store.subscribe(() => {
    if (currentId === null || section.hidden) return;
    const item = store.get(currentId);
    if (item) render(item);
  });

  remove.addEventListener("click", () => {
    if (!dialog.open) dialog.showModal();
  });
  byTestId("delete-cancel").addEventListener("click", () => dialog.close("cancel"));
  confirm.addEventListener("click", async () => {
    const id = currentId;
    confirm.disabled = true;
    try {
      await photos.remove(id);
      dialog.close("deleted");
      navigate("photos", { info: "The photo is deleted." });
    } catch (error) {
      dialog.close("failed");
      shell.fail(error, "delete");
    } finally {
      confirm.disabled = false;
    }
  });

  return {
    async show({ id }) {
      if (id !== currentId) {
        imageFailed = false;
        retriedAt = -Infinity;
      }
      currentId = id;
      const known = store.get(id);
      if (known) render(known);
      else clear();
      shell.show("photo", known ? title(known) : "Photo");
      try {
        // Always ask again: fresh thumbnail URLs, and the latest labels.
        const item = await photos.refresh(id);
        if (currentId !== id) return;
        if (item === null) {
          navigate("photos", { error: "This photo no longer exists." });
          return;
        }
        photos.follow(item);
      } catch (error) {
        if (currentId !== id) return;
        if (placeholder.textContent === "Loading…") placeholder.textContent = "Could not load the photo";
        shell.fail(error, "photo");
      }
    },
  };
}
