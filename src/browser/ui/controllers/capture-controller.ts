/**
 * CaptureController: the page's handle on the worker's packet capture, shared by the packet list
 * and `window.wgweb.capture`. Every call goes to the worker the TunnelController runs; before the
 * worker is up, calls reject with a clear error instead of waiting.
 *
 *   wg-packet-list / window.wgweb.capture ──▶ CaptureController ──▶ TunnelClient ──▶ worker CaptureService
 */
import { ErrorCode, WgwebError } from '../../../shared/errors.ts';
import type { CapturePage, CaptureRow, CaptureRowsQuery, CaptureStatus } from '../../capture/capture-api.ts';
import type { TunnelClient } from '../tunnel-client.ts';

/** What the packet list needs (the controller implements it; tests can pass a double). */
export interface CaptureSource {
  startCapture(): Promise<CaptureStatus>;
  stopCapture(): Promise<CaptureStatus>;
  clearCapture(): Promise<CaptureStatus>;
  captureStatus(): Promise<CaptureStatus>;
  capturePage(query?: CaptureRowsQuery): Promise<CapturePage>;
  capturedPacket(index: number): Promise<{ row: CaptureRow; bytes: Uint8Array } | null>;
  downloadCapture(options?: { filter?: string }): Promise<{ filename: string; bytes: Uint8Array; packets: number }>;
}

/** Largest page the worker hands out (packet-capture.ts). */
const PAGE = 1000;

/** See the module comment. */
export class CaptureController implements CaptureSource {
  readonly #client: () => TunnelClient | undefined;

  /** @param client the TunnelController's worker client (undefined until the worker runs). */
  constructor(client: () => TunnelClient | undefined) {
    this.#client = client;
  }

  startCapture(): Promise<CaptureStatus> {
    return this.#call((c) => c.startCapture());
  }

  stopCapture(): Promise<CaptureStatus> {
    return this.#call((c) => c.stopCapture());
  }

  clearCapture(): Promise<CaptureStatus> {
    return this.#call((c) => c.clearCapture());
  }

  captureStatus(): Promise<CaptureStatus> {
    return this.#call((c) => c.captureStatus());
  }

  capturePage(query: CaptureRowsQuery = {}): Promise<CapturePage> {
    return this.#call((c) => c.capturePage(query));
  }

  capturedPacket(index: number): Promise<{ row: CaptureRow; bytes: Uint8Array } | null> {
    return this.#call((c) => c.capturedPacket(index));
  }

  downloadCapture(options: { filter?: string } = {}): Promise<{ filename: string; bytes: Uint8Array; packets: number }> {
    return this.#call((c) => c.downloadCapture(options));
  }

  /** Every held packet matching `filter`, oldest first, fetched page by page. */
  async allRows(filter = ''): Promise<CaptureRow[]> {
    const out: CaptureRow[] = [];
    let expected = Infinity;
    for (let offset = 0; offset < expected; offset += PAGE) {
      const page = await this.capturePage({ offset, limit: PAGE, filter });
      expected = page.matched;
      // The ring may have moved on between pages: stop rather than repeat or skip rows.
      if (page.offset !== offset || page.rows.length === 0) break;
      const last = out[out.length - 1];
      out.push(...(last ? page.rows.filter((r) => r.index > last.index) : page.rows));
    }
    return out;
  }

  async #call<T>(fn: (client: TunnelClient) => Promise<T>): Promise<T> {
    const client = this.#client();
    if (!client) throw new WgwebError(ErrorCode.INTERNAL, 'The tunnel worker is not running yet: wait for the page to load, or reload it.');
    return fn(client);
  }
}

/** Saves bytes as a file through a temporary object URL (the browser's download flow). */
export function saveFile(filename: string, bytes: Uint8Array, type = 'application/x-pcapng'): void {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoke after the click has been handled; the download keeps its own reference.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
