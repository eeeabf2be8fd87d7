/**
 * The config editor's view of `checkWgQuickConfig`: issues sorted by line for the list under the
 * editor, the set of lines to mark in the gutter, and a one-line summary for screen readers.
 */
import { checkWgQuickConfig, redactKeys, type ConfigIssue, type WgQuickConfig } from '../../../shared/wg-quick-config.ts';

export interface Diagnostic {
  /** 1-based; 0 for whole-file issues ("no [Interface] section"). */
  line: number;
  key?: string;
  /** The message without its "line N: " prefix (the UI shows the line separately). */
  message: string;
  severity: 'error' | 'warning';
}

export interface ConfigDiagnosis {
  /** Nothing but whitespace: show guidance, not errors. */
  empty: boolean;
  /** A usable config (no errors). */
  valid: boolean;
  config?: WgQuickConfig;
  diagnostics: Diagnostic[];
  errorCount: number;
  warningCount: number;
  /** Line numbers with at least one error, for the gutter. */
  errorLines: Set<number>;
  warningLines: Set<number>;
  summary: string;
}

export const EMPTY_CONFIG_SUMMARY = 'Paste a wg-quick config, drop a .conf file here, or generate a new key pair.';

function toDiagnostic(issue: ConfigIssue, severity: Diagnostic['severity']): Diagnostic {
  const d: Diagnostic = { line: issue.line, message: stripLinePrefix(issue.message), severity };
  if (issue.key) d.key = issue.key;
  return d;
}

/** "line 4: PublicKey must be…" → "PublicKey must be…" (only for the issue's own line number). */
export function stripLinePrefix(message: string): string {
  return message.replace(/^line \d+:\s*/, '');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Checks `text` and shapes the result for display. Never throws. */
export function diagnoseConfig(text: string): ConfigDiagnosis {
  if (text.trim() === '') {
    return {
      empty: true,
      valid: false,
      diagnostics: [],
      errorCount: 0,
      warningCount: 0,
      errorLines: new Set(),
      warningLines: new Set(),
      summary: EMPTY_CONFIG_SUMMARY,
    };
  }
  let errors: ConfigIssue[];
  let warnings: ConfigIssue[];
  let config: WgQuickConfig | undefined;
  try {
    ({ config, errors, warnings } = checkWgQuickConfig(text));
  } catch (e) {
    errors = [{ line: 0, message: redactKeys(`The config could not be read: ${(e as Error).message}`) }];
    warnings = [];
  }
  const diagnostics = [...errors.map((i) => toDiagnostic(i, 'error')), ...warnings.map((i) => toDiagnostic(i, 'warning'))].sort(
    (a, b) => a.line - b.line || (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1),
  );
  const errorLines = new Set(errors.map((e) => e.line).filter((l) => l > 0));
  const warningLines = new Set(warnings.map((e) => e.line).filter((l) => l > 0));
  const valid = errors.length === 0 && config !== undefined;
  let summary: string;
  if (errors.length) summary = `${plural(errors.length, 'problem')} to fix` + (warnings.length ? `, ${plural(warnings.length, 'warning')}` : '');
  else if (warnings.length) summary = `Config looks good, with ${plural(warnings.length, 'warning')}`;
  else summary = `Config looks good: ${plural(config?.peers.length ?? 0, 'peer')}`;
  const diagnosis: ConfigDiagnosis = {
    empty: false,
    valid,
    diagnostics,
    errorCount: errors.length,
    warningCount: warnings.length,
    errorLines,
    warningLines,
    summary,
  };
  if (config) diagnosis.config = config;
  return diagnosis;
}

/** "Line 4 · PublicKey" style label for one diagnostic. */
export function diagnosticLocation(d: Diagnostic): string {
  return d.line > 0 ? `Line ${d.line}` : 'Whole file';
}

/**
 * The interface's PrivateKey as written, even when other lines have errors, so the editor can show
 * "your public key" (what the server needs) as soon as the key itself is right.
 */
export function findPrivateKey(text: string): string | undefined {
  let inInterface = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line.startsWith('[')) {
      inInterface = /^\[\s*interface\s*\]$/i.test(line);
      continue;
    }
    if (!inInterface) continue;
    const m = /^([^=]+)=\s*(\S+)$/.exec(line);
    if (m && m[1].replace(/\s+/g, '').toLowerCase() === 'privatekey' && /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(m[2])) {
      return m[2];
    }
  }
  return undefined;
}
