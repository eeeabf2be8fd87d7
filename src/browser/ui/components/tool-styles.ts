/** Layout shared by the tool panels: a form row on top, results underneath. */
import { css } from 'lit';

export const toolStyles = css`
  form {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
    align-items: flex-end;
  }
  form .field {
    margin: 0;
    flex: 1 1 10rem;
    min-width: 0;
  }
  form .field.narrow {
    flex: 0 1 6.5rem;
  }
  form .actions {
    flex: none;
  }
  .result {
    margin-top: 1rem;
  }
  .error {
    margin-top: 1rem;
  }
  dl.kv {
    display: grid;
    grid-template-columns: max-content minmax(0, 1fr);
    gap: 0.25rem 1rem;
    margin: 0;
    font-size: 0.8125rem;
  }
  dl.kv dt {
    color: var(--wg-muted);
  }
  dl.kv dd {
    margin: 0;
    font-family: var(--wg-mono);
    overflow-wrap: anywhere;
  }
  /* A scrolling monospace list of results as they arrive (ping replies, ports). */
  .result-list {
    margin: 0;
    padding: 0.5rem 0.75rem;
    list-style: none;
    font-family: var(--wg-mono);
    font-size: 0.8125rem;
    background: var(--wg-surface-2);
    border: 1px solid var(--wg-border);
    border-radius: var(--wg-radius-sm);
    max-height: 12rem;
    overflow: auto;
  }
`;
