/**
 * The slice of the Web Serial `SerialPort` interface that esptool-js' Transport
 * uses (open/close, readable/writable streams, setSignals, getInfo), over the
 * Node `serialport` package. Web streams are Node globals since v18.
 */
import type { SerialPort as NodeSerialPort } from "serialport";
import { closePort, openPort } from "./serial.ts";

export class WebSerialAdapter {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private port: NodeSerialPort | null = null;

  constructor(readonly path: string) {}

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return {};
  }

  async open(opts: { baudRate: number }): Promise<void> {
    const port = await openPort(this.path, opts.baudRate);
    this.port = port;
    let onData: ((d: Buffer) => void) | null = null;
    this.readable = new ReadableStream<Uint8Array>({
      start(controller) {
        onData = (d: Buffer) => controller.enqueue(new Uint8Array(d));
        port.on("data", onData);
        port.once("close", () => {
          try {
            controller.close();
          } catch {
            /* already closed */
          }
        });
      },
      cancel() {
        if (onData) port.off("data", onData);
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          port.write(Buffer.from(chunk), (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve()))));
        }),
    });
  }

  /** DTR/RTS drive EN and GPIO0 through the usual auto-reset circuit. A pty has no modem lines: ignored there. */
  async setSignals(s: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): Promise<void> {
    const port = this.port;
    if (!port) return;
    const set: { dtr?: boolean; rts?: boolean; brk?: boolean } = {};
    if (s.dataTerminalReady !== undefined) set.dtr = s.dataTerminalReady;
    if (s.requestToSend !== undefined) set.rts = s.requestToSend;
    if (s.break !== undefined) set.brk = s.break;
    await new Promise<void>((resolve) => port.set(set, () => resolve()));
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (port) await new Promise<void>((resolve, reject) => port.update({ baudRate }, (e) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    this.readable = null;
    this.writable = null;
    if (port) await closePort(port);
  }
}
