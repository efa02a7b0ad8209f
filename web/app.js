// Shows which environment this page belongs to, from the config.json that
// `python -m infra publish` writes beside it. A file, not an inline script:
// the frontend stack's Content-Security-Policy allows scripts from 'self' only.
"use strict";

function show(id, text) {
  document.getElementById(id).textContent = text;
}

async function loadConfig() {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`/config.json: HTTP ${response.status}`);
  }
  // Unknown paths fall back to index.html, so a missing file can arrive as HTML.
  if (!(response.headers.get("content-type") || "").includes("json")) {
    throw new Error("/config.json is missing: run `python -m infra publish`");
  }
  return response.json();
}

loadConfig()
  .then((config) => {
    document.title = `${config.app} (${config.environment})`;
    show("app-name", config.app);
    show("environment", config.environment);
    show("api-url", config.apiUrl);
    show("status", "");
  })
  .catch((error) => {
    show("status", `Could not load the configuration: ${error.message}`);
  });
