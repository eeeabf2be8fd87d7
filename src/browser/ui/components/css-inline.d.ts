/** Vite's `?inline` CSS imports: the stylesheet's text (used for xterm.js inside a shadow root). */
declare module '*.css?inline' {
  const css: string;
  export default css;
}
