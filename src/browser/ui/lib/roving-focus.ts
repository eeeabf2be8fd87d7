/**
 * Arrow-key movement for tab lists (WAI-ARIA Authoring Practices, "Tabs" pattern): arrows move and
 * wrap, Home and End jump to the ends; any other key is not ours.
 */
export function nextIndex(current: number, key: string, count: number, orientation: 'horizontal' | 'vertical' = 'horizontal'): number | undefined {
  if (count <= 0) return undefined;
  const next = orientation === 'horizontal' ? 'ArrowRight' : 'ArrowDown';
  const prev = orientation === 'horizontal' ? 'ArrowLeft' : 'ArrowUp';
  switch (key) {
    case next:
      return (current + 1) % count;
    case prev:
      return (current - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return undefined;
  }
}
