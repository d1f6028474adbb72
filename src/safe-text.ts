// Provider-controlled text (names, titles, details, error messages quoting them) on its way to a person.
// Every human-readable sink goes through here: a terminal, a text or Markdown report, an email's text part,
// a Slack message. Control characters and bidirectional overrides are shown, not obeyed: ESC becomes the
// four characters `\x1b`, a CR `\r`, U+202E `\u202e`. So an OSC or CSI sequence cannot retitle or clear a
// terminal, a CR cannot overwrite the line it is on, a newline cannot forge a report line, and a bidi override
// cannot make `evil` read as `live`. Machine formats (JSON, CSV) keep the exact value and never come here.
//
// Backslash itself is left alone: `CORP\alice` is an ordinary Windows account name, and a name that spells
// out `\x1b` literally is as harmless shown as it is.

/** Longest provider value shown in a line of human text; the full value is in the JSON and CSV output. */
export const FIELD_MAX = 256;

const ELLIPSIS = "…";

// C0 (NUL..US), DEL, C1, the bidi embeddings/overrides/isolates and marks, Arabic letter mark, and the two
// Unicode line terminators some viewers break lines on.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_BUT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const ANY_UNSAFE = new RegExp(UNSAFE.source);

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Every control character and bidi control shown as an escape; nothing else changed. */
export function escapeControls(text: string, opts: { keepTab?: boolean } = {}): string {
  return text.replace(opts.keepTab ? UNSAFE_BUT_TAB : UNSAFE, visible);
}

/** At most `max` characters, the last one an ellipsis when something was cut (never half a surrogate pair). */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end) + ELLIPSIS;
}

/**
 * One value for a person to read: controls escaped, at most `max` characters. Only the part that can be
 * shown is escaped, so a 3 MB name costs as much as a short one.
 */
export function shown(value: unknown, max = FIELD_MAX): string {
  const text = value === null || value === undefined ? "" : typeof value === "string" ? value : String(value);
  // The common case, an ordinary short name, is returned as it is (a million-row table calls this millions of times).
  if (text.length <= max && !ANY_UNSAFE.test(text)) return text;
  // Escaping only lengthens text, so the first max + 1 characters decide everything that is shown.
  return clip(escapeControls(text.length > max + 1 ? text.slice(0, max + 1) : text), max);
}

/**
 * One line for a mail header (a subject): every control character, bidi control and line terminator replaced,
 * so nothing can fold the header into another or reorder what it says.
 */
export function headerLine(text: string, replacement = " "): string {
  return text.replace(UNSAFE, replacement);
}

/**
 * A message meant to span lines (an error listing several problems): every line's content is escaped,
 * the line breaks whohas put there stay.
 */
export function shownLines(text: string): string {
  return text
    .split("\n")
    .map((line) => escapeControls(line))
    .join("\n");
}

/**
 * A Markdown table cell or inline text: controls escaped (a CR or LF would end the table row), then every
 * character Markdown could read as syntax backslash-escaped, so `<img onerror=…>` stays text, `[x](https://…)`
 * is not a link and `https://…` is not autolinked (an escaped `:` ends the scheme).
 */
export function markdownText(value: unknown, max = FIELD_MAX): string {
  return shown(value, max).replace(/[\\`*_~[\]()<>&!|#:]/g, "\\$&");
}

/** Slack mrkdwn: one line, with `<`, `>` and `&` (its only control characters) escaped. */
export function slackText(value: unknown, max = FIELD_MAX): string {
  return shown(value, max).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
