/**
 * The Espruino event shape: `obj.on(name, fn)`, `emit`, `removeListener`,
 * `removeAllListeners`. Used for the Wifi module and sockets handed to firmware.
 * Listener calls go through `invoke`, which the emulator sets to its guarded
 * caller (catches and prints errors like Espruino's "Uncaught ...", ignores calls
 * after the program run ended).
 */
export type Invoke = (fn: Function, args: unknown[]) => void;

export class EspruinoEmitter {
  private listeners: Record<string, Function[]> = {};
  constructor(private readonly invoke: Invoke) {}

  on(event: string, fn: Function): this {
    if (typeof fn !== "function") throw new TypeError(`on('${event}', ...) needs a function`);
    (this.listeners[event] ??= []).push(fn);
    return this;
  }
  addListener(event: string, fn: Function): this {
    return this.on(event, fn);
  }
  removeListener(event: string, fn: Function): this {
    const l = this.listeners[event];
    if (l) this.listeners[event] = l.filter((f) => f !== fn);
    return this;
  }
  removeAllListeners(event?: string): this {
    if (event === undefined) this.listeners = {};
    else delete this.listeners[event];
    return this;
  }
  emit(event: string, ...args: unknown[]): boolean {
    const l = this.listeners[event];
    if (!l || l.length === 0) return false;
    for (const fn of [...l]) this.invoke(fn, args);
    return true;
  }
  listenerCount(event: string): number {
    return this.listeners[event]?.length ?? 0;
  }
}
