// The signed-in user's photos as the page knows them: newest first, by id, plus the token
// of the next page. Views subscribe; nothing here talks to the network.

export function createPhotoStore() {
  let order = [];
  const byId = new Map();
  const gaveUp = new Set(); // ids whose polling stopped before they were done
  let next = null;
  let loaded = false;
  const listeners = new Set();

  const emit = () => listeners.forEach((listener) => listener());

  function put(item, first) {
    if (!byId.has(item.image_id)) {
      if (first) order.unshift(item.image_id);
      else order.push(item.image_id);
    }
    byId.set(item.image_id, item);
  }

  return {
    get items() {
      return order.map((id) => byId.get(id));
    },
    get next() {
      return next;
    },
    get loaded() {
      return loaded;
    },
    get: (id) => byId.get(id) || null,
    gaveUp: (id) => gaveUp.has(id),
    // GET /images's answer: the first page replaces what was known, later pages add to it.
    setPage(page, { append }) {
      if (!append) {
        order = [];
        byId.clear();
        gaveUp.clear();
      }
      for (const item of page.items || []) put(item, false);
      next = page.next || null;
      loaded = true;
      emit();
    },
    upsert(item, { first = false } = {}) {
      put(item, first);
      gaveUp.delete(item.image_id);
      emit();
    },
    markGaveUp(id) {
      gaveUp.add(id);
      emit();
    },
    remove(id) {
      if (!byId.delete(id)) return;
      order = order.filter((known) => known !== id);
      gaveUp.delete(id);
      emit();
    },
    reset() {
      order = [];
      byId.clear();
      gaveUp.clear();
      next = null;
      loaded = false;
      emit();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
