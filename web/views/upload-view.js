// The upload form on #/photos: pick a file, see it, check it, then POST /uploads for a
// presigned POST and send the file straight to the bucket with it.

import { byTestId, setBusy } from "../dom.js";
import { typeNames } from "../error-messages.js";
import { FileRejectedError } from "../errors.js";
import { formatBytes } from "../format.js";
import { showPreview } from "../preview.js";
import { postToBucket } from "../s3-upload.js";
import { checkFile, checkSize, policyLimits, uploadFilename } from "../upload-rules.js";

export function createUploadView({ api, photos, shell, notices, config }) {
  const form = byTestId("upload-form");
  const input = byTestId("upload-file");
  const preview = byTestId("upload-preview");
  const info = byTestId("upload-file-info");
  const progress = byTestId("upload-progress");
  const rules = byTestId("upload-rules");
  const allowedTypes = config.allowedContentTypes;
  // The size limit: from config.json when the site declares it, else learnt from the first
  // presigned POST's policy (and checked against every policy in any case).
  let maxBytes = config.maxUploadBytes;
  let disposePreview = () => {};

  input.setAttribute("accept", allowedTypes.join(","));

  function describeRules() {
    rules.textContent = `${typeNames(allowedTypes)}${maxBytes ? `, up to ${formatBytes(maxBytes)}` : ""}`;
  }

  function chosen() {
    return input.files && input.files.length ? input.files[0] : null;
  }

  function reset() {
    disposePreview();
    disposePreview = () => {};
    form.reset();
    info.textContent = "";
    progress.hidden = true;
    progress.value = 0;
  }

  // Checks the file the moment it is picked, so a wrong one is refused before any request.
  input.addEventListener("change", () => {
    disposePreview();
    disposePreview = () => {};
    info.textContent = "";
    input.removeAttribute("aria-invalid");
    const file = chosen();
    if (!file) return;
    try {
      checkFile(file, { allowedTypes, maxBytes });
    } catch (error) {
      input.setAttribute("aria-invalid", "true");
      shell.fail(error, "upload");
      return;
    }
    notices.clear();
    info.textContent = `${file.name} · ${formatBytes(file.size)}`;
    disposePreview = showPreview(preview, file, {
      onUnavailable: () => (info.textContent = `${file.name} · ${formatBytes(file.size)} · no preview`),
    });
  });

  async function forget(imageId) {
    try {
      await api.deleteImage(imageId); // its pending record would show as "upload not finished"
    } catch {
      // It expires by itself a day after its upload URL (DynamoDB TTL).
    }
  }

  async function upload(file) {
    const contentType = checkFile(file, { allowedTypes, maxBytes });
    const filename = uploadFilename(file.name);
    notices.info(`Preparing the upload of ${file.name}…`);
    const created = await api.createUpload({ contentType, filename });
    const limits = policyLimits(created.upload.fields);
    try {
      if (limits && limits.maxBytes) {
        maxBytes = limits.maxBytes;
        describeRules();
        checkSize(file, maxBytes);
      }
      progress.hidden = false;
      notices.info(`Uploading ${file.name}…`);
      await postToBucket({
        url: created.upload.url,
        fields: created.upload.fields,
        file,
        onProgress: (loaded, total) => (progress.value = Math.round((100 * loaded) / total)),
      });
    } catch (error) {
      await forget(created.image_id);
      throw error;
    }
    await photos.added({
      image_id: created.image_id,
      status: "pending",
      content_type: contentType,
      filename,
      created_at: new Date().toISOString(),
      labels: [],
      thumbnails: {},
      failure_reason: null,
    });
    notices.info(`Uploaded ${file.name}. Its thumbnail and labels appear in the gallery when they are ready.`);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = chosen();
    setBusy(form, true);
    input.disabled = true;
    try {
      await upload(file);
      reset();
    } catch (error) {
      progress.hidden = true;
      if (error instanceof FileRejectedError) input.setAttribute("aria-invalid", "true");
      shell.fail(error, "upload");
    } finally {
      input.disabled = false;
      setBusy(form, false);
    }
    input.focus(); // ready for the next file, or to pick another
  });

  describeRules();
  return { reset };
}
