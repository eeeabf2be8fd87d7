/**
 * BrowseBackend over a real MessageChannel (structured clone, transferred body streams), with a
 * scripted fetcher standing in for the tunnel worker: what goes into the tunnel (cookies, Referer,
 * Origin), what comes back to the Service Worker, and what is refused.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { BrowseBackend, type BrowseFetchInit, type BrowseFetcher, type CertificateRequest } from '../../../src/browser/browse/browse-backend.ts';
import type { BackendToServiceWorker, BrowseErrorMessage, BrowseFetchMessage, BrowseResponseMessage, BrowseWebSocketMessage } from '../../../src/browser/browse/browse-protocol.ts';
import type { OpenWebSocketOptions } from '../../../src/browser/worker/websocket-port-protocol.ts';

const T0 = Date.UTC(2026, 0, 1);

interface Call {
  url: string;
  init: BrowseFetchInit;
}

function setup(options: { fetch?: BrowseFetcher; connected?: boolean; askTrust?: (r: CertificateRequest) => Promise<boolean> } = {}) {
  const calls: Call[] = [];
  const fetcher: BrowseFetcher =
    options.fetch ??
    (async (url, init) => {
      calls.push({ url, init });
      return {
        head: {
          url,
          status: 200,
          statusText: 'OK',
          headers: [['content-type', 'text/html'], ['set-cookie', 'hidden=1']],
          rawHeaders: [['Content-Type', 'text/html'], ['Set-Cookie', 'sid=abc; Path=/; HttpOnly'], ['Set-Cookie', 'ui=blue; Path=/']],
        },
        body: new Response('<p>hello</p>').body,
      };
    });
  const backend = new BrowseBackend({
    fetch: async (url, init) => {
      if (options.fetch) calls.push({ url, init });
      return fetcher(url, init);
    },
    tunnel: () => ({ connected: options.connected ?? true, allowedIPs: ['10.77.0.0/24'] }),
    now: () => T0,
    ...(options.askTrust ? { askTrust: options.askTrust } : {}),
  });
  const { port1, port2 } = new MessageChannel();
  backend.attach(port1);
  const inbox: BackendToServiceWorker[] = [];
  const waiters: (() => void)[] = [];
  port2.onmessage = (e) => {
    inbox.push(e.data as BackendToServiceWorker);
    for (const w of waiters.splice(0)) w();
  };
  const next = async (id: number): Promise<BrowseResponseMessage | BrowseErrorMessage> => {
    for (;;) {
      const m = inbox.find((x) => x.type !== 'scope' && x.id === id);
      if (m) return m as BrowseResponseMessage | BrowseErrorMessage;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  let id = 0;
  const send = (m: Partial<BrowseFetchMessage>): Promise<BrowseResponseMessage | BrowseErrorMessage> => {
    const full: BrowseFetchMessage = {
      type: 'fetch',
      id: ++id,
      url: 'http://10.77.0.1/',
      method: 'GET',
      headers: [],
      body: null,
      initiator: null,
      navigate: true,
      destination: 'iframe',
      ...m,
    };
    port2.postMessage(full, full.body instanceof ArrayBuffer ? [full.body] : []);
    return next(full.id);
  };
  const close = () => {
    backend.close();
    port2.close();
  };
  return { backend, calls, inbox, send, port2, close };
}

const headerOf = (init: BrowseFetchInit, name: string) => init.headers.find(([n]) => n === name)?.[1];

describe('requests into the tunnel', () => {
  test('the AllowedIPs go to the Service Worker first, then each response carries its head and streamed body', async () => {
    const s = setup();
    try {
      const r = (await s.send({})) as BrowseResponseMessage;
      assert.deepEqual(s.inbox[0], { type: 'scope', allowedIPs: ['10.77.0.0/24'] });
      assert.equal(r.type, 'response');
      assert.equal(r.status, 200);
      assert.equal(await new Response(r.body).text(), '<p>hello</p>');
      assert.deepEqual(r.headers, [['content-type', 'text/html']], 'Set-Cookie never reaches the browse origin');
      assert.equal(r.scriptCookies, 'ui=blue', "a document's scripts see what its own response set, minus HttpOnly");
      assert.equal(s.calls[0].init.method, 'GET');
    } finally {
      s.close();
    }
  });

  test('Set-Cookie lines go into the jar and come back on the next request; scripts see only non-HttpOnly ones', async () => {
    const s = setup();
    try {
      await s.send({});
      const r = (await s.send({ url: 'http://10.77.0.1/next' })) as BrowseResponseMessage;
      assert.equal(headerOf(s.calls[1].init, 'cookie'), 'sid=abc; ui=blue');
      assert.equal(r.scriptCookies, 'ui=blue');
      assert.deepEqual(r.httpOnlyCookies, ['sid']);
      assert.equal(s.backend.jar.size(T0), 2);
      await s.send({ url: 'http://10.77.0.200:8080/' });
      assert.equal(headerOf(s.calls[2].init, 'cookie'), undefined, 'another host gets none');
    } finally {
      s.close();
    }
  });

  test('Referer and Origin are the initiator\'s intranet URL and origin, never the browse origin\'s', async () => {
    const s = setup();
    try {
      await s.send({ url: 'http://10.77.0.1/b', initiator: 'http://10.77.0.1/a?x#frag', navigate: false, destination: 'image' });
      assert.equal(headerOf(s.calls[0].init, 'referer'), 'http://10.77.0.1/a?x');
      assert.equal(headerOf(s.calls[0].init, 'origin'), undefined);
      await s.send({ url: 'http://10.77.0.200:8080/api', initiator: 'http://10.77.0.1/a', navigate: false, destination: '' });
      assert.equal(headerOf(s.calls[1].init, 'referer'), 'http://10.77.0.1/', 'cross-origin: the origin only');
      assert.equal(headerOf(s.calls[1].init, 'origin'), 'http://10.77.0.1');
      await s.send({ url: 'http://10.77.0.1/login', method: 'POST', body: new TextEncoder().encode('a=1').buffer as ArrayBuffer, initiator: 'http://10.77.0.1/login' });
      assert.equal(headerOf(s.calls[2].init, 'origin'), 'http://10.77.0.1');
      assert.equal(new TextDecoder().decode(s.calls[2].init.body!), 'a=1');
    } finally {
      s.close();
    }
  });

  test('headers the Service Worker passes are filtered once more (a compromised browse origin cannot set Cookie or Host)', async () => {
    const s = setup();
    try {
      await s.send({ headers: [['cookie', 'forged=1'], ['host', 'evil'], ['x-ok', '1']] });
      assert.deepEqual(s.calls[0].init.headers, [['x-ok', '1']]);
    } finally {
      s.close();
    }
  });
});

describe('refusals and errors carry a code', () => {
  test('tunnel down: NOT_CONNECTED without touching the worker', async () => {
    const s = setup({ connected: false });
    try {
      const r = (await s.send({})) as BrowseErrorMessage;
      assert.equal(r.code, 'NOT_CONNECTED');
      assert.equal(s.calls.length, 0);
    } finally {
      s.close();
    }
  });

  test('an IP address outside AllowedIPs is "outside", not fetched', async () => {
    const s = setup();
    try {
      const r = (await s.send({ url: 'http://198.51.100.1/' })) as BrowseErrorMessage;
      assert.equal(r.outside, true);
      assert.equal(s.calls.length, 0);
    } finally {
      s.close();
    }
  });

  test('worker errors pass through; a name that resolved outside AllowedIPs, or no DNS in the tunnel, is "outside"', async () => {
    const errors: Record<string, WgwebError> = {
      'http://refused/': new WgwebError('CONNECTION_REFUSED', 'connection refused by 10.77.0.1:81'),
      'http://public.example/': new WgwebError('HOST_UNREACHABLE', "203.0.113.5:80 is unreachable: no [Peer]'s AllowedIPs include it", { address: '203.0.113.5', port: 80 }),
      'http://nodns.example/': new WgwebError('DNS_FAILURE', 'cannot resolve nodns.example: the config has no DNS = servers'),
      'http://nx.example/': new WgwebError('DNS_NXDOMAIN', 'nx.example: no such host'),
    };
    const s = setup({ fetch: async (url) => Promise.reject(errors[url]) });
    try {
      const got: Record<string, [string, boolean]> = {};
      for (const url of Object.keys(errors)) {
        const r = (await s.send({ url })) as BrowseErrorMessage;
        got[url] = [r.code, r.outside];
      }
      assert.deepEqual(got, {
        'http://refused/': ['CONNECTION_REFUSED', false],
        'http://public.example/': ['HOST_UNREACHABLE', true],
        'http://nodns.example/': ['DNS_FAILURE', true],
        'http://nx.example/': ['DNS_NXDOMAIN', false],
      });
    } finally {
      s.close();
    }
  });

  const malformed: [string, Partial<BrowseFetchMessage>][] = [
    ['a ws URL', { url: 'ws://10.77.0.1/' }],
    ['a file URL', { url: 'file:///etc/passwd' }],
    ['not a URL', { url: 'nope' }],
    ['CONNECT', { method: 'CONNECT' }],
    ['a method with spaces', { method: 'GET /x' }],
    ['a header name with a colon', { headers: [['x:y', '1']] }],
    ['a body on GET', { body: new ArrayBuffer(1) }],
    ['a body that is not bytes', { method: 'POST', body: 'text' as unknown as ArrayBuffer }],
  ];
  for (const [what, m] of malformed) {
    test(`refuses ${what} from the browse origin with USAGE`, async () => {
      const s = setup();
      try {
        const r = (await s.send(m)) as BrowseErrorMessage;
        assert.equal(r.type, 'error');
        assert.equal(r.code, 'USAGE');
        assert.equal(s.calls.length, 0);
      } finally {
        s.close();
      }
    });
  }
});

describe('cancellation reaches the tunnel', () => {
  test('an abort message aborts the worker request', async () => {
    let seen: AbortSignal | undefined;
    const s = setup({
      fetch: (_url, init) => {
        seen = init.signal;
        return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new WgwebError('ABORTED', 'cancelled'))));
      },
    });
    try {
      const pending = s.send({});
      while (!seen) await new Promise((r) => setImmediate(r));
      s.port2.postMessage({ type: 'abort', id: 1 });
      const r = (await pending) as BrowseErrorMessage;
      assert.equal(r.code, 'ABORTED');
      assert.equal(seen.aborted, true);
    } finally {
      s.close();
    }
  });

  test('the Service Worker cancelling the body aborts the request and cancels the source stream', async () => {
    let signal: AbortSignal | undefined;
    let cancelled = false;
    const s = setup({
      fetch: async (url, init) => {
        signal = init.signal;
        const body = new ReadableStream<Uint8Array>({
          pull(c) {
            c.enqueue(new Uint8Array(1024));
          },
          cancel() {
            cancelled = true;
          },
        });
        return { head: { url, status: 200, statusText: 'OK', headers: [] }, body };
      },
    });
    try {
      const r = (await s.send({})) as BrowseResponseMessage;
      const reader = r.body!.getReader();
      await reader.read();
      await reader.cancel('navigated away');
      while (!cancelled) await new Promise((res) => setImmediate(res));
      assert.equal(signal?.aborted, true);
      assert.equal(s.backend.inflight, 0);
    } finally {
      s.close();
    }
  });
});

describe('script cookies (document.cookie via the frame agent)', () => {
  test('stored for the document\'s URL; HttpOnly cookies cannot be overwritten by scripts', async () => {
    const s = setup();
    try {
      await s.send({});
      assert.equal(s.backend.setScriptCookie('ui=red; Path=/', new URL('http://10.77.0.1/x')), true);
      assert.equal(s.backend.setScriptCookie('sid=forged; Path=/', new URL('http://10.77.0.1/x')), false);
      assert.equal(s.backend.jar.cookieHeader('http://10.77.0.1/', T0), 'sid=abc; ui=red');
    } finally {
      s.close();
    }
  });
});

describe("framed pages' WebSockets", () => {
  interface Opened {
    url: string;
    options: OpenWebSocketOptions;
    port: MessagePort;
  }
  function wsSetup(connected = true) {
    const opened: Opened[] = [];
    const backend = new BrowseBackend({
      fetch: async () => {
        throw new Error('no fetch here');
      },
      tunnel: () => ({ connected, allowedIPs: ['10.77.0.0/24'] }),
      now: () => T0,
      openWebSocket: async (url, options, port) => {
        opened.push({ url, options, port });
      },
    });
    backend.jar.setCookie('sid=abc; Path=/; HttpOnly', new URL('http://10.77.0.1/'), T0);
    backend.jar.setCookie('other=1; Path=/', new URL('http://10.77.0.9/'), T0);
    const sw = new MessageChannel();
    backend.attach(sw.port1);
    /** Sends what the Service Worker would; resolves with the page end's messages once the socket closed or was opened. */
    const open = async (m: Partial<BrowseWebSocketMessage>): Promise<{ page: MessagePort; replies: unknown[] }> => {
      const socket = new MessageChannel();
      const message = { type: 'websocket', url: 'ws://10.77.0.1:8888/api/kernels/k1/channels?session_id=s', protocols: ['v1.kernel.websocket.jupyter.org'], initiator: 'http://10.77.0.1:8888/notebooks/a.ipynb', port: socket.port2, ...m };
      const replies: unknown[] = [];
      socket.port1.onmessage = (e) => replies.push(e.data);
      const before = opened.length;
      sw.port2.postMessage(message, [socket.port2]);
      // Either the opener got it, or the page end got error + close.
      while (opened.length === before && replies.length < 2) await new Promise((r) => setImmediate(r));
      return { page: socket.port1, replies };
    };
    const close = () => {
      backend.close();
      sw.port2.close();
    };
    return { opened, open, close };
  }

  test("the worker opens it with the document's intranet Origin and the jar's cookies for the socket's host", async () => {
    const s = wsSetup();
    try {
      const { page } = await s.open({});
      assert.equal(s.opened.length, 1);
      assert.equal(s.opened[0].url, 'ws://10.77.0.1:8888/api/kernels/k1/channels?session_id=s');
      assert.deepEqual(s.opened[0].options, {
        protocols: ['v1.kernel.websocket.jupyter.org'],
        headers: [
          ['origin', 'http://10.77.0.1:8888'],
          ['cookie', 'sid=abc'],
        ],
      });
      // The page's port reached the opener: what the worker posts on it arrives at the page.
      const got = new Promise((r) => (page.onmessage = (e) => r(e.data)));
      s.opened[0].port.postMessage({ type: 'open', protocol: 'x', extensions: '' });
      assert.deepEqual(await got, { type: 'open', protocol: 'x', extensions: '' });
      page.close();
      s.opened[0].port.close();
    } finally {
      s.close();
    }
  });

  test('refused without opening: another scheme, a host outside AllowedIPs, a bad subprotocol, no intranet document, the tunnel down', async () => {
    const cases: [Partial<BrowseWebSocketMessage>, boolean][] = [
      [{ url: 'http://10.77.0.1/' }, true],
      [{ url: 'ws://192.0.2.1/' }, true],
      [{ protocols: ['bad proto'] }, true],
      [{ initiator: 'file:///x' }, true],
      [{}, false],
    ];
    for (const [m, connected] of cases) {
      const s = wsSetup(connected);
      try {
        const { replies } = await s.open(m);
        assert.equal(s.opened.length, 0, JSON.stringify(m));
        assert.equal((replies[0] as { type: string }).type, 'error', JSON.stringify(m));
        assert.deepEqual(replies[1], { type: 'close', code: 1006, reason: '', wasClean: false });
      } finally {
        s.close();
      }
    }
  });
});

describe('https pages: the tunnel worker\'s TLS, and the certificate prompt', () => {
  const certificate = { subject: 'CN=nas', issuer: 'CN=nas', notBefore: '2026-01-01', notAfter: '2027-01-01', sha256: 'ab'.repeat(32) };
  /** A fetcher that refuses https with `code` until `trusted` is set, then answers 200. */
  function tls(code: string) {
    const state = { trusted: false, tries: 0 };
    const fetch: BrowseFetcher = async (url) => {
      state.tries++;
      if (url.startsWith('https:') && !state.trusted) throw new WgwebError(code as ErrorCode, `refused: ${code}`, { certificate });
      return { head: { url, status: 200, statusText: 'OK', headers: [['content-type', 'text/plain']], rawHeaders: [['Set-Cookie', 'sid=s3; Secure; Path=/']] }, body: new Response('ok').body };
    };
    return { state, fetch };
  }

  test('an https URL goes through the tunnel like http, and its Secure cookie comes back over https only', async () => {
    const t = tls(ErrorCode.TLS_CERT_UNTRUSTED);
    t.state.trusted = true;
    const s = setup({ fetch: t.fetch });
    try {
      const r = (await s.send({ url: 'https://10.77.0.1/' })) as BrowseResponseMessage;
      assert.equal(r.type, 'response');
      assert.equal(r.status, 200);
      assert.equal(r.scriptCookies, 'sid=s3');
      await s.send({ url: 'https://10.77.0.1/next' });
      assert.equal(headerOf(s.calls[1].init, 'cookie'), 'sid=s3');
      await s.send({ url: 'http://10.77.0.1/plain' });
      assert.equal(headerOf(s.calls[2].init, 'cookie'), undefined, 'a Secure cookie is not sent over plain http');
    } finally {
      s.close();
    }
  });

  test('an untrusted certificate asks the app once; trusting it sends the same request again', async () => {
    const t = tls(ErrorCode.TLS_CERT_UNTRUSTED);
    const asked: CertificateRequest[] = [];
    const s = setup({
      fetch: t.fetch,
      askTrust: async (r) => {
        asked.push(r);
        t.state.trusted = true; // the app pinned it before answering
        return true;
      },
    });
    try {
      const r = await s.send({ url: 'https://10.77.0.1:8443/' });
      assert.equal(r.type, 'response');
      assert.equal(asked.length, 1);
      assert.equal(asked[0].host, '10.77.0.1');
      assert.equal(asked[0].origin, 'https://10.77.0.1:8443');
      assert.equal(asked[0].error.code, 'TLS_CERT_UNTRUSTED');
      assert.deepEqual(asked[0].error.detail.certificate, certificate);
      assert.equal(t.state.tries, 2);
    } finally {
      s.close();
    }
  });

  test('Cancel keeps the refusal: the error reaches the Service Worker (an error page), nothing was accepted', async () => {
    const t = tls(ErrorCode.TLS_PIN_CHANGED);
    let asked = 0;
    const s = setup({ fetch: t.fetch, askTrust: async () => (asked++, false) });
    try {
      const r = (await s.send({ url: 'https://10.77.0.1/' })) as BrowseErrorMessage;
      assert.equal(r.type, 'error');
      assert.equal(r.code, 'TLS_PIN_CHANGED');
      assert.equal(r.outside, false);
      assert.equal(asked, 1);
      assert.equal(t.state.tries, 1);
    } finally {
      s.close();
    }
  });

  test('subresources never open the prompt, and refusals trust cannot fix (wrong name, expired) never ask', async () => {
    for (const [code, m] of [
      [ErrorCode.TLS_CERT_UNTRUSTED, { navigate: false, destination: 'image' }],
      [ErrorCode.TLS_HOSTNAME_MISMATCH, {}],
      [ErrorCode.TLS_CERT_EXPIRED, {}],
    ] as [string, Partial<BrowseFetchMessage>][]) {
      const t = tls(code);
      let asked = 0;
      const s = setup({ fetch: t.fetch, askTrust: async () => (asked++, true) });
      try {
        const r = (await s.send({ url: 'https://10.77.0.1/', ...m })) as BrowseErrorMessage;
        assert.equal(r.code, code);
        assert.equal(asked, 0, code);
      } finally {
        s.close();
      }
    }
  });

  test('requests for the host that fail while the prompt is open wait for its answer', async () => {
    const t = tls(ErrorCode.TLS_CERT_UNTRUSTED);
    let answer!: (v: boolean) => void;
    let asked = 0;
    const s = setup({ fetch: t.fetch, askTrust: () => (asked++, new Promise<boolean>((r) => (answer = r))) });
    try {
      const page = s.send({ url: 'https://10.77.0.1/' });
      const until = async (what: string, ok: () => boolean): Promise<void> => {
        for (let i = 0; !ok(); i++) {
          if (i > 1000) assert.fail(`never: ${what}`);
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      await until('the prompt opened', () => asked > 0);
      const image = s.send({ url: 'https://10.77.0.1/logo.png', navigate: false, destination: 'image' });
      await until('the image was refused too', () => t.state.tries >= 2);
      t.state.trusted = true;
      answer(true);
      assert.equal((await page).type, 'response');
      assert.equal((await image).type, 'response');
      assert.equal(asked, 1);
    } finally {
      s.close();
    }
  });
});

describe('the credentials mode of the page\'s request (Fetch §2.2.5)', () => {
  // 10.77.0.1:8080 is another origin of the same site as 10.77.0.1: its cookies (no port in a cookie) would go.
  const other = 'http://10.77.0.1:8080/page';

  test('include (navigations, images, fetch with credentials: include) sends the jar\'s cookies to another origin of the site', async () => {
    const s = setup();
    try {
      await s.send({});
      await s.send({ url: 'http://10.77.0.1/api', initiator: other, navigate: false, destination: '', credentials: 'include' });
      assert.equal(headerOf(s.calls[1].init, 'cookie'), 'sid=abc; ui=blue');
    } finally {
      s.close();
    }
  });

  test('same-origin sends them within the intranet origin only', async () => {
    const s = setup();
    try {
      await s.send({});
      await s.send({ url: 'http://10.77.0.1/api', initiator: 'http://10.77.0.1/page', navigate: false, destination: '', credentials: 'same-origin' });
      assert.equal(headerOf(s.calls[1].init, 'cookie'), 'sid=abc; ui=blue');
      await s.send({ url: 'http://10.77.0.1/api', initiator: other, navigate: false, destination: '', credentials: 'same-origin' });
      assert.equal(headerOf(s.calls[2].init, 'cookie'), undefined, 'another origin gets none, whatever SameSite says');
    } finally {
      s.close();
    }
  });

  test('omit sends no cookie, and the response\'s Set-Cookie is not kept', async () => {
    const s = setup();
    try {
      await s.send({ url: 'http://10.77.0.1/', credentials: 'omit', navigate: false, destination: '' });
      assert.equal(s.backend.jar.size(T0), 0, 'nothing stored from an uncredentialed response');
      await s.send({});
      await s.send({ url: 'http://10.77.0.1/api', initiator: 'http://10.77.0.1/page', navigate: false, destination: '', credentials: 'omit' });
      assert.equal(headerOf(s.calls[2].init, 'cookie'), undefined);
    } finally {
      s.close();
    }
  });

  test('an unknown credentials mode is refused as malformed', async () => {
    const s = setup();
    try {
      const r = (await s.send({ credentials: 'always' as RequestCredentials })) as BrowseErrorMessage;
      assert.equal(r.type, 'error');
      assert.equal(r.code, ErrorCode.USAGE);
      assert.equal(s.calls.length, 0);
    } finally {
      s.close();
    }
  });
});
