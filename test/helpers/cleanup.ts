/**
 * Everything a test opens (platforms, brokers, peers, boards) is registered here
 * and torn down by `cleanupAll` (a test file runs it in `after`), so a failing test
 * still lets the process exit instead of hanging on an open socket or timer.
 */
const open: (() => Promise<unknown> | void)[] = [];

export function onCleanup(fn: () => Promise<unknown> | void): void {
  open.push(fn);
}

export async function cleanupAll(): Promise<void> {
  while (open.length > 0) {
    try {
      await open.pop()!();
    } catch {
      // already closed
    }
  }
}
