// A local preview of the chosen file. An object URL (blob:) when the Content-Security-Policy
// allows it in img-src; otherwise the file read as a data: URL, which it already allows.

export function showPreview(img, file, { onUnavailable = () => {} } = {}) {
  let objectUrl = URL.createObjectURL(file);
  let triedDataUrl = false;
  let disposed = false;

  function release() {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
  }

  function onError() {
    release();
    if (disposed) return;
    if (triedDataUrl) {
      img.hidden = true;
      onUnavailable();
      return;
    }
    triedDataUrl = true;
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      if (!disposed) img.src = reader.result;
    });
    reader.addEventListener("error", () => onError());
    reader.readAsDataURL(file);
  }

  img.addEventListener("error", onError);
  img.src = objectUrl;
  img.hidden = false;

  return function dispose() {
    disposed = true;
    img.removeEventListener("error", onError);
    release();
    img.removeAttribute("src");
    img.hidden = true;
  };
}
