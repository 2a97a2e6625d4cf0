/**
 * A byte string (one char per byte) as a JavaScript string literal of printable ASCII
 * only, for anything typed into an Espruino console: the flasher, the web page and the
 * real-interpreter wrapper. No control byte or newline reaches the REPL raw (a newline
 * would run a statement early, 0x03/0x04 interrupt or end a session), and no char is
 * read as UTF-8. No Node imports: the web page bundles it.
 */
export function jsStringLiteral(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += bytes[i];
    else out += "\\x" + (c < 16 ? "0" : "") + c.toString(16);
  }
  return out + '"';
}
