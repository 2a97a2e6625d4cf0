/**
 * Serial ports through the `serialport` package, with errors a user can act on,
 * and a port listing that works without udev.
 */
import fs from "node:fs";
import os from "node:os";
import { SerialPort } from "serialport";

import { InstallError } from "./install-protocol.ts";

/** A flashing failure a user can act on; `code` names it. The same class the shared
 * install protocol throws, so the CLI reports both the same way. */
export { InstallError as FlashError };
const FlashError = InstallError;
type FlashError = InstallError;

/** Open `path` at `baudRate`; maps OS errors to FlashError with a fix where there is one. */
export async function openPort(path: string, baudRate = 115200): Promise<SerialPort> {
  if (!path) throw new FlashError("no serial port given: pass --port /dev/ttyUSB0 (see `wisp ports`) or set \"port\" in flash.config.json", "NO_PORT");
  if (!fs.existsSync(path)) {
    throw new FlashError(`serial port ${path} does not exist: is the board plugged in? \`wisp ports\` lists the ports this machine has`, "PORT_MISSING");
  }
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(explainOpenError(path, err.message)) : resolve()));
  });
  return port;
}

/** The FlashError for an OS error opening `path`, with the fix where there is one. */
export function explainOpenError(path: string, m: string, user = os.userInfo().username): FlashError {
  if (/EACCES|EPERM|Permission denied/i.test(m))
    return new FlashError(
      `permission denied opening ${path}: add yourself to the group that owns it (usually dialout; uucp on Arch) and log in again: sudo usermod -aG dialout ${user}`,
      "PORT_PERMISSION",
    );
  if (/EBUSY|resource busy|Cannot lock port|locked/i.test(m))
    return new FlashError(`serial port ${path} is busy: another program (a monitor, screen, the Arduino IDE) has it open; close it and retry`, "PORT_BUSY");
  if (/ENOENT|No such file/i.test(m)) return new FlashError(`serial port ${path} does not exist: is the board plugged in? \`wisp ports\` lists the ports`, "PORT_MISSING");
  if (/Inappropriate ioctl|ENOTTY/i.test(m)) return new FlashError(`${path} is not a serial port (${m})`, "NOT_A_PORT");
  return new FlashError(`cannot open serial port ${path}: ${m}`, "PORT_OPEN");
}

export function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    port.close(() => resolve());
  });
}

export interface PortInfo {
  path: string;
  manufacturer?: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
  source: "serialport" | "dev-scan";
}

/**
 * Serial ports with vendor/product where known. `SerialPort.list()` needs udevadm on
 * Linux; without it (containers, minimal systems) we scan /dev and read USB ids from sysfs.
 */
export async function listPorts(devDir = "/dev"): Promise<{ ports: PortInfo[]; note?: string }> {
  try {
    const list = await SerialPort.list();
    return { ports: list.map((p) => ({ path: p.path, manufacturer: p.manufacturer, vendorId: p.vendorId, productId: p.productId, serialNumber: p.serialNumber, source: "serialport" as const })) };
  } catch (e) {
    const note = `serialport could not enumerate ports (${(e as Error).message}); scanned ${devDir} instead`;
    return { ports: scanDev(devDir), note };
  }
}

const TTY_RE = /^(ttyUSB\d+|ttyACM\d+|ttyAMA\d+|tty\.usb\S+|cu\.usb\S+|ttyS\d+)$/;

function scanDev(devDir: string): PortInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync(devDir);
  } catch {
    return [];
  }
  const out: PortInfo[] = [];
  for (const n of names.filter((x) => TTY_RE.test(x)).sort()) {
    // Plain ttyS* exist on most PCs whether or not a UART is there: list them only with a driver-backed device
    const sys = `/sys/class/tty/${n}/device`;
    if (/^ttyS/.test(n) && !fs.existsSync(`${sys}/driver`)) continue;
    const info: PortInfo = { path: `${devDir}/${n}`, source: "dev-scan" };
    const usb = findUsbDir(sys);
    if (usb) {
      const rd = (f: string) => {
        try {
          return fs.readFileSync(`${usb}/${f}`, "utf8").trim();
        } catch {
          return undefined;
        }
      };
      info.vendorId = rd("idVendor");
      info.productId = rd("idProduct");
      info.manufacturer = rd("manufacturer");
      info.serialNumber = rd("serial");
    }
    out.push(info);
  }
  return out;
}

function findUsbDir(sysDevice: string): string | null {
  let dir: string;
  try {
    dir = fs.realpathSync(sysDevice);
  } catch {
    return null;
  }
  for (let i = 0; i < 4 && dir !== "/"; i++) {
    if (fs.existsSync(`${dir}/idVendor`)) return dir;
    dir = dir.replace(/\/[^/]+$/, "") || "/";
  }
  return null;
}
