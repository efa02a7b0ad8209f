// The page's two message regions: role="status" for news, role="alert" for failures.
// Screen readers read a region when its text changes.

export function createNotices({ status, alert }) {
  return {
    info(text) {
      alert.textContent = "";
      status.textContent = text;
    },
    error(text) {
      status.textContent = "";
      alert.textContent = text;
    },
    clear() {
      status.textContent = "";
      alert.textContent = "";
    },
  };
}
