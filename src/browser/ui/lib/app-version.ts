/**
 * The app's version (package.json), for the diagnostic report: Vite replaces `__WGWEB_VERSION__`
 * at build time (vite.config.ts `define`); unbundled (unit tests in Node) it reads 'dev'.
 */
declare const __WGWEB_VERSION__: string | undefined;

/** See the module comment. */
export const APP_VERSION: string = typeof __WGWEB_VERSION__ === 'string' ? __WGWEB_VERSION__ : 'dev';
