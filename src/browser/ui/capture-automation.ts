/**
 * `window.wgweb.capture`: the packet capture for scripts and end-to-end tests, on the same
 * CaptureController as the packet list (so the list shows what a script did). Plain data in and
 * out; errors are `WgwebError`s with a code.
 *
 *   await wgweb.capture.start();  await wgweb.ping('10.8.0.1', 2);
 *   const rows = await wgweb.capture.packets('icmp');           // summaries, oldest first
 *   const { filename, bytes } = await wgweb.capture.download(); // a pcapng file for Wireshark
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import type { CaptureRow, CaptureStatus } from '../capture/capture-api.ts';
import type { CaptureController } from './controllers/capture-controller.ts';
import { coded } from './tunnel-client.ts';

export interface WgwebCaptureAutomation {
  /** Starts (or resumes) recording; resolves with the capture's counters. */
  start(): Promise<CaptureStatus>;
  /** Stops recording; the packets stay. */
  stop(): Promise<CaptureStatus>;
  /** Drops every packet; frame numbers restart at 1. */
  clear(): Promise<CaptureStatus>;
  status(): Promise<CaptureStatus>;
  /** Summaries of the held packets (oldest first), optionally through the list's filter syntax. */
  packets(filter?: string): Promise<CaptureRow[]>;
  /** The capture as a pcapng file. */
  download(filter?: string): Promise<{ filename: string; bytes: Uint8Array; packets: number }>;
}

/** @param controller the app's CaptureController; undefined makes every call reject with INTERNAL. */
export function createCaptureAutomation(controller: CaptureController | undefined): WgwebCaptureAutomation {
  const need = (): CaptureController => {
    if (!controller) throw new WgwebError(ErrorCode.INTERNAL, 'This page has no packet capture.');
    return controller;
  };
  const filterArg = (filter: unknown, what: string): string => {
    if (filter === undefined) return '';
    if (typeof filter !== 'string') throw new WgwebError(ErrorCode.USAGE, `wgweb.capture.${what}(filter?): filter must be a string such as "tcp port 80"`);
    return filter;
  };
  return Object.freeze({
    start: () => coded(() => need().startCapture()),
    stop: () => coded(() => need().stopCapture()),
    clear: () => coded(() => need().clearCapture()),
    status: () => coded(() => need().captureStatus()),
    packets: (filter?: string) => coded(async () => need().allRows(filterArg(filter, 'packets'))),
    download: (filter?: string) =>
      coded(async () => {
        const f = filterArg(filter, 'download');
        return need().downloadCapture(f ? { filter: f } : {});
      }),
  });
}
