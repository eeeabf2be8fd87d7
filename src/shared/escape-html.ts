/**
 * Text made safe for HTML element content and quoted attribute values (the five characters the
 * HTML spec's serialisation escapes, plus `'` for single-quoted attributes). One home for the
 * pages wgweb writes as strings: the demo site, the browse view's error pages and the diagnostic
 * report. Lit templates escape by themselves and do not need it.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `<a title='x'>&` → `&lt;a title=&#39;x&#39;&gt;&amp;`. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
