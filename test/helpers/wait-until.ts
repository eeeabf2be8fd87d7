/**
 * Waits until `check()` holds, looking again every `intervalMs`. The deadline only guards against
 * a hang: the test then fails naming `what`. No assertion may depend on how long this takes.
 */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000, intervalMs = 2): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
