/**
 * Port lists as people type them for a port check: `22`, `22,80,443`, `8000-8100`, or a mix
 * (`22,80,8000-8100`). Bounded so a typo cannot start a scan of all 65535 ports.
 */

/** Most ports one check may cover. */
export const MAX_PORTS = 1024;

/**
 * The ports of `text` in the order given, duplicates dropped.
 * @throws {RangeError} with a message naming the bad part: not a number, out of 1-65535, a
 *   reversed range, or more than {@link MAX_PORTS} ports.
 */
export function parsePortList(text: string, max = MAX_PORTS): number[] {
  if (typeof text !== 'string' || text.trim() === '') throw new RangeError('give one or more ports: 22, 22,80 or 8000-8100');
  const seen = new Set<number>();
  const port = (s: string, part: string): number => {
    if (!/^\d{1,5}$/.test(s)) throw new RangeError(`"${part}" is not a port or a range (22, 8000-8100)`);
    const n = Number(s);
    if (n < 1 || n > 65535) throw new RangeError(`port ${n} in "${part}" is outside 1-65535`);
    return n;
  };
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    const [lo, hi] = m ? [port(m[1], part), port(m[2], part)] : [port(part, part), port(part, part)];
    if (hi < lo) throw new RangeError(`the range "${part}" runs backwards; write ${hi}-${lo}`);
    if (hi - lo + 1 + seen.size > max * 2 + 1) throw new RangeError(`at most ${max} ports at once; "${part}" alone has ${hi - lo + 1}`);
    for (let p = lo; p <= hi; p++) seen.add(p);
    if (seen.size > max) throw new RangeError(`at most ${max} ports at once (the list has more)`);
  }
  return [...seen];
}
