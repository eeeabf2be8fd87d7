/**
 * The page's entry: theme tokens, <wg-app> with the bundled tunnel worker, and `window.wgweb`.
 */
import './styles/theme.css';
import { WgApp } from './components/wg-app.ts';
import type { WgwebAutomation } from './automation.ts';

declare global {
  interface Window {
    /** The automation surface (see src/browser/ui/automation.ts). */
    wgweb: WgwebAutomation;
  }
}

const app = new WgApp(() => new Worker(new URL('../worker/tunnel-worker.ts', import.meta.url), { type: 'module', name: 'wgweb-tunnel' }));
document.body.replaceChildren(app);
window.wgweb = app.automation;
