// A small event emitter: `on(type, fn)` returns the function that unsubscribes. A listener that
// throws does not stop the others (the error is reported on the console).

export class Emitter {
  constructor() {
    this.listenersByType = new Map(); // type -> Set(fn)
  }

  on(type, fn) {
    if (!this.listenersByType.has(type)) this.listenersByType.set(type, new Set());
    this.listenersByType.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    this.listenersByType.get(type)?.delete(fn);
  }

  once(type, fn) {
    const off = this.on(type, (value) => {
      off();
      fn(value);
    });
    return off;
  }

  fire(type, value) {
    const listeners = this.listenersByType.get(type);
    if (!listeners) return;
    for (const fn of [...listeners]) {
      try {
        fn(value);
      } catch (error) {
        globalThis.console?.error?.(error);
      }
    }
  }
}
