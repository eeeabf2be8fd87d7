/**
 * Headless Chromium driven over a bare DevTools protocol pipe, for benchmarks that must not be
 * slowed down by the driver itself.
 *
 *   launchCdpChromium() ──spawn──▶ chromium --remote-debugging-pipe (fd 3: commands in, fd 4: replies
 *                                   and events out, each a JSON message ended by NUL)
 *   page.evaluate(fn, arg) ──▶ Runtime.evaluate("(fn)(arg)", awaitPromise, returnByValue) on the page
 *   attach(urlPart) ──▶ Target.attachToTarget(flatten) on a worker: Profiler / HeapProfiler / Runtime
 *
 * Why not Playwright here: Playwright attaches to every dedicated worker and enables the `Network`
 * domain there (so that `page.route` sees worker requests). DevTools then reports every WebSocket
 * frame the worker sends or receives, payload included, to the driver: a copy, base64 and JSON per
 * frame in the renderer, a hop through the browser process, and parsing in the driver. A tunnel
 * worker moves all its data as WebSocket frames, so under Playwright the browser's figures include
 * that instrumentation, which no user's browser runs. This driver enables nothing it does not use:
 * the page's `Runtime` (for evaluation and console errors) and, on demand, one worker's domains.
 *
 * Same Chromium, same flags and fresh profile as harness/browser.ts; the process is tied to the
 * caller with `setpriv --pdeathsig KILL` and killed on close().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CHROMIUM_ARGS } from './browser.ts';
import { CHROMIUM_PATH } from './requirements.ts';

/** One DevTools session: the page's or a worker's. */
export interface CdpSession {
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Subscribes to an event of this session; returns the unsubscribe function. */
  on(event: string, listener: (params: Record<string, unknown>) => void): () => void;
}

export interface CdpPage extends CdpSession {
  /** Navigates and waits until the document's load event has fired. */
  goto(url: string, timeoutMs?: number): Promise<void>;
  /**
   * Runs `fn(arg)` in the page and returns its (awaited) result by value. `fn` must be
   * self-contained, as with Playwright: it is sent as source text, `arg` as JSON.
   */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Polls `fn()` every 50 ms until it returns a truthy value. */
  waitForFunction(fn: () => unknown, timeoutMs?: number): Promise<void>;
}

export interface CdpBrowser {
  readonly page: CdpPage;
  /** The browser's process id (the root of its process tree). */
  readonly pid: number;
  /** Console errors and uncaught exceptions of the page. */
  readonly errors: string[];
  /** Attaches to the page's first worker target whose URL contains `urlPart`. */
  attachWorker(urlPart: string): Promise<CdpSession>;
  close(): Promise<void>;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  method: string;
}

/** Launches Chromium (the project's flags, a fresh profile) with one blank page attached. */
export async function launchCdpChromium(options: { viewport?: { width: number; height: number } } = {}): Promise<CdpBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'wgweb-chromium-cdp-'));
  const { width, height } = options.viewport ?? { width: 1360, height: 900 };
  let child: ChildProcess;
  try {
    child = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', CHROMIUM_PATH, ...CHROMIUM_ARGS, '--remote-debugging-pipe', `--user-data-dir=${profile}`, `--window-size=${width},${height}`, 'about:blank'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(params: Record<string, unknown>) => void>>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  void exit.then(() => {
    for (const p of pending.values()) p.reject(new Error(`Chromium exited during ${p.method}: ${stderr.slice(-500)}`));
    pending.clear();
  });
  toBrowser.on('error', () => undefined);

  let buffered = '';
  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (text: string) => {
    buffered += text;
    for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
      const message = JSON.parse(buffered.slice(0, end)) as {
        id?: number;
        sessionId?: string;
        method?: string;
        params?: Record<string, unknown>;
        result?: unknown;
        error?: { message: string };
      };
      buffered = buffered.slice(end + 1);
      if (message.id !== undefined) {
        const p = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) p?.reject(new Error(`${p.method}: ${message.error.message}`));
        else p?.resolve(message.result);
      } else if (message.method) {
        for (const l of listeners.get(`${message.sessionId ?? ''}:${message.method}`) ?? []) l(message.params ?? {});
      }
    }
  });

  const send = (sessionId: string | undefined, method: string, params: Record<string, unknown> = {}): Promise<unknown> => {
    if (exited) return Promise.reject(new Error(`Chromium has exited (${method})`));
    const id = nextId++;
    const reply = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject, method }));
    toBrowser.write(`${JSON.stringify(sessionId ? { id, sessionId, method, params } : { id, method, params })}\0`);
    return reply;
  };
  const session = (sessionId: string): CdpSession => ({
    send: <T>(method: string, params?: Record<string, unknown>) => send(sessionId, method, params) as Promise<T>,
    on(event, listener) {
      const key = `${sessionId}:${event}`;
      if (!listeners.has(key)) listeners.set(key, new Set());
      listeners.get(key)!.add(listener);
      return () => listeners.get(key)?.delete(listener);
    },
  });

  const close = async (): Promise<void> => {
    if (!exited) {
      await Promise.race([send(undefined, 'Browser.close').catch(() => undefined), new Promise((r) => setTimeout(r, 3000))]);
      if (!exited) child.kill('SIGKILL');
      await exit;
    }
    await rm(profile, { recursive: true, force: true });
  };

  try {
    const targets = (await send(undefined, 'Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
    let target = targets.targetInfos.find((t) => t.type === 'page')?.targetId;
    target ??= ((await send(undefined, 'Target.createTarget', { url: 'about:blank' })) as { targetId: string }).targetId;
    const { sessionId } = (await send(undefined, 'Target.attachToTarget', { targetId: target, flatten: true })) as { sessionId: string };
    const pageSession = session(sessionId);
    const errors: string[] = [];
    pageSession.on('Runtime.consoleAPICalled', (p) => {
      if (p.type === 'error') errors.push((p.args as { value?: unknown; description?: string }[]).map((a) => a.description ?? String(a.value)).join(' '));
    });
    pageSession.on('Runtime.exceptionThrown', (p) => errors.push(describeException(p.exceptionDetails as ExceptionDetails)));
    /** Workers reported by auto-attach: script URL → session id. */
    const workers = new Map<string, string>();
    let autoAttached = false;
    pageSession.on('Target.attachedToTarget', (p) => {
      const info = p.targetInfo as { type: string; url: string };
      if (info.type === 'worker') workers.set(info.url, p.sessionId as string);
    });
    pageSession.on('Target.detachedFromTarget', (p) => {
      for (const [url, id] of workers) if (id === p.sessionId) workers.delete(url);
    });
    await pageSession.send('Runtime.enable');
    await pageSession.send('Page.enable');

    const evaluateExpression = async (expression: string): Promise<unknown> => {
      const r = (await pageSession.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true, userGesture: true })) as {
        result: { value?: unknown };
        exceptionDetails?: ExceptionDetails;
      };
      if (r.exceptionDetails) throw new Error(describeException(r.exceptionDetails));
      return r.result.value;
    };
    const page: CdpPage = {
      ...pageSession,
      async goto(url, timeoutMs = 60_000) {
        let loaded!: () => void;
        const load = new Promise<void>((r) => (loaded = r));
        const off = pageSession.on('Page.loadEventFired', () => loaded());
        try {
          const r = (await pageSession.send('Page.navigate', { url })) as { errorText?: string };
          if (r.errorText) throw new Error(`navigating to ${url}: ${r.errorText}`);
          await withTimeout(load, timeoutMs, `loading ${url}`);
        } finally {
          off();
        }
      },
      evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R> {
        // tsx/esbuild may wrap named functions in __name(...) calls; the page has no such helper.
        return evaluateExpression(`(() => { const __name = (f) => f; return (${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)}); })()`) as Promise<R>;
      },
      async waitForFunction(fn, timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        while (!(await page.evaluate(fn))) {
          if (Date.now() > deadline) throw new Error(`waitForFunction: not true within ${timeoutMs / 1000} s: ${fn.toString().slice(0, 100)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    };
    await pageSession.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return {
      page,
      pid: child.pid!,
      errors,
      async attachWorker(urlPart) {
        // Dedicated workers are the page's child targets: auto-attach reports them (existing ones
        // too) with their script URL. Attaching enables no domain; the caller enables what it uses.
        const known = [...workers].find(([url]) => url.includes(urlPart));
        if (known) return session(known[1]);
        const found = new Promise<string>((resolve) => {
          const off = pageSession.on('Target.attachedToTarget', (p) => {
            const info = p.targetInfo as { type: string; url: string };
            if (info.type === 'worker' && info.url.includes(urlPart)) {
              off();
              resolve(p.sessionId as string);
            }
          });
        });
        if (!autoAttached) await pageSession.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
        autoAttached = true;
        return session(await withTimeout(found, 10_000, `finding the worker "${urlPart}"`));
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

interface ExceptionDetails {
  text?: string;
  exception?: { description?: string; value?: unknown };
}

function describeException(d: ExceptionDetails | undefined): string {
  return d?.exception?.description ?? (d?.exception?.value !== undefined ? String(d.exception.value) : (d?.text ?? 'exception'));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
