/**
 * Text from the console (names, memos, report fields, error details) can carry terminal
 * control sequences: a report field with ESC ] 52 writes the clipboard, ESC ] 0 the window
 * title, CR and bidi overrides make a line read as something else. Everything the CLI prints
 * passes through here: control characters become visible escapes (`\u001b`), so a
 * terminal never interprets them. Only the CLI's own bold header survives, and only when it
 * writes to a terminal in colour.
 */

// C0 controls but tab and newline, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates.
// eslint-disable-next-line no-control-regex
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** The text with every control character a terminal would act on made visible. */
export function terminalSafe(text: string): string {
  return text.replace(unsafe, escape);
}

/** The CLI's own styles, the only escapes it writes itself. */
export const styles = { bold: '\u001b[1m', reset: '\u001b[0m' } as const;
// eslint-disable-next-line no-control-regex
const ownStyle = /\u001b\[[01]m/g;

/** terminalSafe, but the CLI's own bold/reset (emitted only in colour mode) are kept. */
export function terminalSafeKeepingStyles(text: string): string {
  const parts = text.split(ownStyle);
  const kept = text.match(ownStyle) ?? [];
  return parts.map((p, i) => terminalSafe(p) + (kept[i] ?? '')).join('');
}
