/**
 * "Did you mean ...?" suggestions for misspelled config keys, section names, CLI commands and
 * options. Isomorphic.
 */

/**
 * The candidate that `word` most likely misspells, or `undefined` when none is close enough.
 * Close enough means: the same letters ignoring case and punctuation ("allowed_ips"), a prefix or
 * suffix of at least 5 letters ("Keepalive" for PersistentKeepalive), or an edit distance
 * (insertions, deletions, substitutions, adjacent swaps) of at most 1 for short words and 2 otherwise.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  if (typeof word !== 'string') throw new TypeError('word must be a string');
  if (word.length > 64) return undefined;
  const w = normalize(word);
  if (w.length < 2) return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const l = normalize(c);
    if (l === w) return c;
  }
  for (const c of candidates) {
    const l = normalize(c);
    if (w.length >= 5 && (l.startsWith(w) || l.endsWith(w) || w.startsWith(l))) return c;
    const limit = Math.min(l.length, w.length) <= 4 ? 1 : 2;
    const d = editDistance(w, l);
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function normalize(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push(new Array<number>(b.length + 1).fill(0));
    rows[i][0] = i;
  }
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, rows[i - 2][j - 2] + 1);
      rows[i][j] = v;
    }
  }
  return rows[a.length][b.length];
}
