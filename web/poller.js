// Polls ids with exponential backoff until `check(id)` says done, or gives up after a while.
// Timers and the clock come in as arguments, so a test can drive it.

export const BACKOFF = { firstMs: 2000, factor: 1.5, maxMs: 20_000, giveUpMs: 5 * 60_000 };

export function delayFor(attempt, policy = BACKOFF) {
  return Math.min(policy.maxMs, Math.round(policy.firstMs * policy.factor ** attempt));
}

// check(id) resolves true to keep polling, false when done; a rejection counts as "keep".
export function createPoller({ check, onGiveUp = () => {}, policy = BACKOFF, timers = globalThis, now = Date.now }) {
  const watched = new Map(); // id -> { attempt, started, timer }

  function schedule(id, entry) {
    const delay = delayFor(entry.attempt, policy);
    if (now() + delay - entry.started > policy.giveUpMs) {
      watched.delete(id);
      onGiveUp(id);
      return;
    }
    entry.timer = timers.setTimeout(async () => {
      entry.attempt += 1;
      let again = true;
      try {
        again = await check(id);
      } catch {
        again = true; // a passing network failure: try again later
      }
      if (watched.get(id) !== entry) return; // stopped (or restarted) meanwhile
      if (again) schedule(id, entry);
      else watched.delete(id);
    }, delay);
  }

  return {
    watch(id) {
      if (watched.has(id)) return;
      const entry = { attempt: 0, started: now(), timer: null };
      watched.set(id, entry);
      schedule(id, entry);
    },
    watching: (id) => watched.has(id),
    stop(id) {
      const entry = watched.get(id);
      if (entry) timers.clearTimeout(entry.timer);
      watched.delete(id);
    },
    stopAll() {
      for (const entry of watched.values()) timers.clearTimeout(entry.timer);
      watched.clear();
    },
  };
}
