/**
 * The HTTP Upgrade handshake of RFC 6455, client side: the request a WsLink sends
 * once its transport is open, and the check of the server's answer (status 101, the
 * `websocket` upgrade, the `mqtt` subprotocol and Sec-WebSocket-Accept, which is the
 * base64 of SHA-1 over the key and the RFC's GUID). The frames that follow are
 * websocket.ts's business.
 *
 * Everything works on the WsPlatform's fixed buffers; strings are made only for the
 * request (Link.write takes one) and for error text.
 */
import { base64 } from "./base64";
import { sha1 } from "./sha1";
import type { WsPlatform } from "./websocket";

export const WS_BAD_STATUS = "ws: bad status";
export const WS_NO_UPGRADE = "ws: no websocket upgrade";
export const WS_BAD_PROTOCOL = "ws: bad protocol";
export const WS_BAD_ACCEPT = "ws: bad accept";

/** The fixed GUID that RFC 6455 appends to the key before hashing. */
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** A fresh Sec-WebSocket-Key in p.key (16 random bytes, base64), and the GET that carries it. */
export function upgradeRequest(p: WsPlatform, host: string, port: number): string {
  const key = p.key;
  const rnd = p.ctl;
  for (let i = 0; i < 16; i++) byteSet(rnd, i, Math.floor(p.random() * 256) & 255);
  base64(rnd, 16, key);
  return (
    "GET " +
    p.path +
    " HTTP/1.1\r\nHost: " +
    host +
    ":" +
    port +
    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
    bytesToStr(key, 0, 24) +
    "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
  );
}

/** Does b[off..end) equal `lit` (lower case), ignoring case? */
function bytesAre(b: Bytes, off: number, end: number, lit: string): boolean {
  const n = strLen(lit);
  if (end - off !== n) return false;
  for (let i = 0; i < n; i++) if (lower(byteAt(b, off + i)) !== strByte(lit, i)) return false;
  return true;
}

/** Is http[v..ve) base64(SHA-1(key + GUID))? */
function acceptIs(p: WsPlatform, v: number, ve: number): boolean {
  if (ve - v !== 28) return false;
  const m = p.shaMsg;
  bytesCopy(m, 0, p.key, 0, 24);
  strToBytes(WS_GUID, m, 24);
  sha1(m, 24 + strLen(WS_GUID), p.shaW, p.digest);
  base64(p.digest, 20, p.accept);
  for (let i = 0; i < 28; i++) if (byteAt(p.accept, i) !== byteAt(p.http, v + i)) return false;
  return true;
}

/** The answer in p.http[0..len) (ending in an empty line): "" when it accepts the upgrade, else the error. */
export function checkUpgrade(p: WsPlatform, len: number): string {
  const b = p.http;
  let eol = 0;
  while (byteAt(b, eol) !== 13) eol++;
  // "HTTP/1.1 101" then end of line or a space.
  let sp = 0;
  while (sp < eol && byteAt(b, sp) !== 32) sp++;
  const code = sp + 4 <= eol && (sp + 4 === eol || byteAt(b, sp + 4) === 32) && bytesAre(b, sp + 1, sp + 4, "101");
  if (!code || !bytesAre(b, 0, 5, "http/")) return WS_BAD_STATUS + " (" + bytesToStr(b, 0, eol) + ")";
  let upgrade = false;
  let proto = "(none)";
  let protoOk = false;
  let accept = false;
  let o = eol + 2;
  while (o < len - 2) {
    let e = o;
    while (byteAt(b, e) !== 13) e++;
    let colon = o;
    while (colon < e && byteAt(b, colon) !== 58) colon++;
    if (colon < e) {
      let v = colon + 1;
      while (v < e && isSpace(byteAt(b, v))) v++;
      let ve = e;
      while (ve > v && isSpace(byteAt(b, ve - 1))) ve--;
      if (bytesAre(b, o, colon, "upgrade")) upgrade = bytesAre(b, v, ve, "websocket");
      else if (bytesAre(b, o, colon, "sec-websocket-protocol")) {
        proto = bytesToStr(b, v, ve - v);
        protoOk = bytesAre(b, v, ve, "mqtt");
      } else if (bytesAre(b, o, colon, "sec-websocket-accept")) accept = acceptIs(p, v, ve);
    }
    o = e + 2;
  }
  if (!upgrade) return WS_NO_UPGRADE;
  if (!protoOk) return WS_BAD_PROTOCOL + " " + proto;
  if (!accept) return WS_BAD_ACCEPT;
  return "";
}
