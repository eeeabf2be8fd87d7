/**
 * The built-in demo peer's HTTP API on the relay that served this page (docs/demo.md):
 * `GET /api/demo/info` says whether the demo runs; `GET /api/demo/config` hands out a fresh
 * wg-quick client config for it. Relative URLs, so the page asks its own origin.
 */

/** What the UI needs to know about the demo. */
export type DemoAvailability = { enabled: true } | { enabled: false; reason: string };

/** Asks the relay whether its demo peer runs; a relay without the demo API counts as "no". */
export async function fetchDemoAvailability(fetchImpl: typeof fetch = fetch): Promise<DemoAvailability> {
  try {
    const res = await fetchImpl('/api/demo/info', { headers: { accept: 'application/json' } });
    if (!res.ok) return { enabled: false, reason: await errorMessage(res) };
    const info = (await res.json()) as { enabled?: boolean };
    return info.enabled ? { enabled: true } : { enabled: false, reason: 'the relay runs without its demo peer' };
  } catch {
    return { enabled: false, reason: 'the relay did not answer' };
  }
}

/**
 * A fresh client config for the demo peer.
 * @throws {Error} with the relay's explanation (demo full, rate limited, turned off).
 */
export async function fetchDemoConfig(fetchImpl: typeof fetch = fetch): Promise<string> {
  const res = await fetchImpl('/api/demo/config', { headers: { accept: 'text/plain' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`The demo is not available: ${await errorMessage(res)}`);
  return res.text();
}

async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) return body.error.message;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}
