/**
 * Tabs for the config panel and the tools (WAI-ARIA Authoring Practices "Tabs", automatic
 * activation): one tab stop, arrow keys move between tabs, Home/End jump.
 */
import { html, type TemplateResult } from 'lit';
import { nextIndex } from '../lib/roving-focus.ts';

export interface TabSpec {
  id: string;
  label: string;
}

export interface TablistOptions {
  /** Accessible name of the tab list. */
  label: string;
  tabs: TabSpec[];
  selected: string;
  /** Prefix for element ids: tabs are `${idPrefix}-tab-${id}`, panels `${idPrefix}-panel-${id}`. */
  idPrefix: string;
  onSelect: (id: string) => void;
}

export const tabId = (prefix: string, id: string) => `${prefix}-tab-${id}`;
export const panelId = (prefix: string, id: string) => `${prefix}-panel-${id}`;

export function renderTablist(o: TablistOptions): TemplateResult {
  const onKeydown = (e: KeyboardEvent) => {
    const current = o.tabs.findIndex((t) => t.id === o.selected);
    const next = nextIndex(current, e.key, o.tabs.length);
    if (next === undefined) return;
    e.preventDefault();
    o.onSelect(o.tabs[next].id);
    const list = e.currentTarget as HTMLElement;
    (list.querySelectorAll('[role="tab"]')[next] as HTMLElement | undefined)?.focus();
  };
  return html`<div role="tablist" aria-label=${o.label} @keydown=${onKeydown}>
    ${o.tabs.map(
      (t) => html`<button
        type="button"
        role="tab"
        id=${tabId(o.idPrefix, t.id)}
        aria-selected=${t.id === o.selected ? 'true' : 'false'}
        aria-controls=${panelId(o.idPrefix, t.id)}
        tabindex=${t.id === o.selected ? '0' : '-1'}
        @click=${() => o.onSelect(t.id)}
      >
        ${t.label}
      </button>`,
    )}
  </div>`;
}
