// The browser's multipart POST of a file to S3 with the presigned fields the API returned.
// XMLHttpRequest rather than fetch, for upload progress. S3 answers 204, or an XML error.

import { NetworkError, UploadRefusedError } from "./errors.js";

export function postToBucket({ url, fields, file, onProgress = () => {} }) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    form.append(name, value);
  }
  form.append("file", file); // S3 ignores every field after the file: it goes last
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(parseS3Error(request.status, request.responseText));
    });
    // A network failure and a CORS refusal look the same from here.
    request.addEventListener("error", () => reject(new NetworkError("storage")));
    request.addEventListener("timeout", () => reject(new NetworkError("storage")));
    request.send(form);
  });
}

// <Error><Code>EntityTooLarge</Code><Message>…</Message><MaxSizeAllowed>…</MaxSizeAllowed></Error>
export function parseS3Error(status, text) {
  const field = xmlFields(text || "");
  return new UploadRefusedError(status, field("Code"), field("Message"), {
    maxSizeAllowed: field("MaxSizeAllowed"),
    proposedSize: field("ProposedSize"),
  });
}

function xmlFields(text) {
  if (typeof DOMParser === "function") {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    return (name) => {
      const node = doc.getElementsByTagName(name)[0];
      return node ? node.textContent.trim() : "";
    };
  }
  return (name) => {
    const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(text);
    return match ? match[1].trim() : "";
  };
}
