/**
 * Real intranet web applications from Debian packages, run inside a test's namespace on the
 * site's IPv4 tunnel address (the browse view's e2e tests, #14 item 6):
 *
 *   startJupyter(site)      jupyter-notebook (classic Notebook 6), no token, a notebook `wgweb.ipynb`
 *                           with one cell `print(6 * 7)`; kernels speak WebSocket      port 8888
 *   startTransmission(site) transmission-daemon's web UI behind HTTP Basic auth
 *                           (TRANSMISSION_USER); DHT/LPD/PEX/port mapping off          port 9091
 *   startPrometheus(site)   prometheus scraping itself every 1 s                       port 9090
 *   startSyncthing(site)    syncthing's web GUI (AngularJS; a CSRF token its script reads from
 *                           document.cookie); device SYNCTHING_DEVICE; discovery, relays,
 *                           NAT, usage and crash reports, upgrades all off              port 8384
 *
 * Each lives in its own temporary directory (config, data, HOME), is ready when its port accepts
 * connections (bounded wait), and is stopped by pid and its directory removed by `close()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Namespace, NsProcess } from './netns.ts';

export interface AppSite {
  readonly ns: Namespace;
  readonly tunnelAddress4?: string;
}

export interface IntranetApp {
  readonly host: string;
  readonly port: number;
  readonly process: NsProcess;
  /** `http://host:port<path>` */
  url(path?: string): string;
  close(): Promise<void>;
}

/** The name syncthing's GUI shows for its own device. */
export const SYNCTHING_DEVICE = 'wgweb-syncthing';

/** The Transmission web UI's login. */
export const TRANSMISSION_USER = { username: 'wgweb', password: 'torrent pass' } as const;

/**
 * Waits until `host:port` accepts TCP connections inside the namespace (probing with bash's
 * /dev/tcp), or throws with the process's last output once it exited or `timeoutMs` passed.
 */
export async function waitForListener(site: AppSite, host: string, port: number, proc: NsProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = site.ns.spawn('bash', ['-c', `exec 3<>/dev/tcp/${host}/${port}`], { ref: true });
    if ((await probe.exited).code === 0) return;
    const exited = await Promise.race([proc.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 200))]);
    if (exited || Date.now() > deadline) {
      throw new Error(`${proc.command} did not start listening on ${host}:${port} in ${site.ns.name}: ${proc.output(30)}`);
    }
  }
}

async function startApp(site: AppSite, name: string, port: number, start: (dir: string, host: string) => NsProcess, timeoutMs: number): Promise<IntranetApp> {
  const host = site.tunnelAddress4;
  if (!host) throw new RangeError('the site has no IPv4 tunnel address');
  const dir = mkdtempSync(join(tmpdir(), `wgwh-${name}-`));
  let proc: NsProcess | undefined;
  const close = async (): Promise<void> => {
    await proc?.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    proc = start(dir, host);
    await waitForListener(site, host, port, proc, timeoutMs);
  } catch (e) {
    await close();
    throw e;
  }
  const p = proc;
  return { host, port, process: p, url: (path = '/') => `http://${host}:${port}${path}`, close };
}

/** Jupyter Notebook 6 without a token, serving `dir` with the notebook `wgweb.ipynb`. */
export function startJupyter(site: AppSite, options: { port?: number } = {}): Promise<IntranetApp> {
  const port = options.port ?? 8888;
  return startApp(
    site,
    'jupyter',
    port,
    (dir, host) => {
      const notebook = {
        cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: ['print(6 * 7)'] }],
        metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' } },
        nbformat: 4,
        nbformat_minor: 5,
      };
      writeFileSync(join(dir, 'wgweb.ipynb'), JSON.stringify(notebook));
      const env = { HOME: dir, JUPYTER_CONFIG_DIR: join(dir, '.jupyter'), JUPYTER_DATA_DIR: join(dir, '.local'), JUPYTER_RUNTIME_DIR: join(dir, '.runtime'), IPYTHONDIR: join(dir, '.ipython') };
      return site.ns.spawn(
        'jupyter-notebook',
        [
          '--no-browser',
          '--allow-root',
          `--ip=${host}`,
          `--port=${port}`,
          '--port-retries=0',
          `--notebook-dir=${dir}`,
          '--NotebookApp.token=',
          '--NotebookApp.password=',
          '--NotebookApp.open_browser=False',
          '--MappingKernelManager.cull_idle_timeout=0',
        ],
        { env, cwd: dir },
      );
    },
    60_000,
  );
}

/** transmission-daemon in the foreground with its web UI behind Basic auth. */
export function startTransmission(site: AppSite, options: { port?: number } = {}): Promise<IntranetApp> {
  const port = options.port ?? 9091;
  return startApp(
    site,
    'transmission',
    port,
    (dir, host) => {
      const settings = {
        'rpc-enabled': true,
        'rpc-bind-address': host,
        'rpc-port': port,
        'rpc-authentication-required': true,
        'rpc-username': TRANSMISSION_USER.username,
        'rpc-password': TRANSMISSION_USER.password,
        'rpc-whitelist-enabled': false,
        'rpc-host-whitelist-enabled': false,
        'dht-enabled': false,
        'lpd-enabled': false,
        'pex-enabled': false,
        'utp-enabled': false,
        'port-forwarding-enabled': false,
        'bind-address-ipv4': host,
        'peer-port': 51413,
        'download-dir': join(dir, 'downloads'),
        'incomplete-dir-enabled': false,
        'message-level': 1,
      };
      writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
      return site.ns.spawn('transmission-daemon', ['-f', '-g', dir], { env: { HOME: dir } });
    },
    30_000,
  );
}

/** Prometheus 2 scraping itself, its data in the temporary directory. */
export function startPrometheus(site: AppSite, options: { port?: number } = {}): Promise<IntranetApp> {
  const port = options.port ?? 9090;
  return startApp(
    site,
    'prometheus',
    port,
    (dir, host) => {
      const config = ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: wgweb-self', '    static_configs:', `      - targets: ['${host}:${port}']`].join('\n');
      writeFileSync(join(dir, 'prometheus.yml'), config + '\n');
      return site.ns.spawn(
        'prometheus',
        [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${host}:${port}`, '--log.level=warn'],
        { env: { HOME: dir } },
      );
    },
    60_000,
  );
}

/**
 * syncthing's web GUI on the site's address. The config is generated offline (`syncthing
 * generate`: keys and config.xml, no network) and then closed off: no global or local discovery,
 * no relays, no NAT traversal, no usage or crash reports, no upgrades, sync port on the site's
 * address only; so nothing tries to leave the namespace.
 */
export function startSyncthing(site: AppSite, options: { port?: number } = {}): Promise<IntranetApp> {
  const port = options.port ?? 8384;
  return startApp(
    site,
    'syncthing',
    port,
    (dir, host) => {
      const home = join(dir, 'home');
      execFileSync('syncthing', ['generate', `--home=${home}`, '--no-default-folder'], { env: { ...process.env, HOME: dir }, stdio: 'ignore' });
      const file = join(home, 'config.xml');
      const set = (xml: string, tag: string, value: string): string => xml.replace(new RegExp(`<${tag}>[^<]*</${tag}>`, 'g'), `<${tag}>${value}</${tag}>`);
      let xml = readFileSync(file, 'utf8');
      for (const [tag, value] of [
        ['globalAnnounceEnabled', 'false'],
        ['localAnnounceEnabled', 'false'],
        ['relaysEnabled', 'false'],
        ['natEnabled', 'false'],
        ['startBrowser', 'false'],
        ['urAccepted', '-1'],
        ['autoUpgradeIntervalH', '0'],
        ['crashReportingEnabled', 'false'],
        ['announceLANAddresses', 'false'],
        ['listenAddress', `tcp://${host}:22000`],
      ]) {
        xml = set(xml, tag, value);
      }
      xml = xml.replace(/(<device id="[^"]+" name=")[^"]*(")/, `$1${SYNCTHING_DEVICE}$2`);
      writeFileSync(file, xml);
      return site.ns.spawn('syncthing', ['serve', `--home=${home}`, `--gui-address=http://${host}:${port}`, '--no-browser', '--no-restart', '--no-upgrade'], {
        env: { HOME: dir, STNOUPGRADE: '1', STNODEFAULTFOLDER: '1' },
      });
    },
    60_000,
  );
}
