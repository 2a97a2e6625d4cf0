import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import tls from "node:tls";
import { startBoard } from "../../host-tools/emulator/emulator.ts";
import { hasCommand } from "../helpers/system-deps.ts";
import { tmpDir, withTimeout } from "./fixtures/util.ts";

const noOpenssl = hasCommand("openssl") ? false : "openssl is not installed (needed to make a throw-away certificate)";
if (noOpenssl) console.log(`# skip: ${noOpenssl}`);

test("require('tls') connects over real TLS as Espruino does (no certificate check, SNI 'mbed TLS Server 1'), carries byte strings", { timeout: 30_000, skip: noOpenssl }, async () => {
  const dir = tmpDir();
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const sni: (string | false)[] = [];
  const server = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (s) => {
    sni.push((s as tls.TLSSocket & { servername?: string | false }).servername ?? false);
    s.pipe(s);
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const port = (server.address() as { port: number }).port;
  // a CA that did not sign the server's certificate: network.c never checks (MBEDTLS_SSL_VERIFY_NONE)
  const other = path.join(dir, "other.pem");
  const r2 = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path.join(dir, "other-key.pem"), "-out", other, "-days", "1", "-subj", "/CN=other"], { encoding: "utf8" });
  assert.equal(r2.status, 0, r2.stderr);
  const ca = JSON.stringify(fs.readFileSync(other, "utf8"));
  const board = startBoard({
    storageFile: null,
    // Not MQTT, so the clock cannot know a reply is due: let it wait up to 2 s of
    // real time for the echo, so a loaded machine cannot make board time race ahead.
    clock: { kind: "virtual", replyGraceMs: 2000 },
    appCode: `
      var got = "", log = [];
      require("Wifi").connect("ap", {}, function () {
        var s = require("tls").connect({host: "localhost", port: ${port}, ca: ${ca}}, function () {
          log.push("secure");
          s.write("\\x00\\x01\\xfe\\xff");
        });
        s.on("data", function (d) { got += d; if (got.length === 4) s.end(); });
        s.on("error", function (e) { log.push("error " + e.message); });
        s.on("close", function () { log.push("close"); });
      });`,
  });
  try {
    await withTimeout(board.runUntil(() => (board.evaluate("log") as string[]).includes("close"), 20_000, "tls round trip"), 20_000, "tls");
    assert.equal(JSON.stringify(board.evaluate("log")), '["secure","close"]');
    assert.equal(board.evaluate("got"), "\x00\x01\xfe\xff");
    assert.ok(board.events.some((e) => e.type === "socket" && e.event === "connect" && e.tls));
    assert.deepEqual(sni, ["mbed TLS Server 1"], "the SNI Espruino's mbedTLS glue always sends");
  } finally {
    board.stop();
    server.close();
  }
});
