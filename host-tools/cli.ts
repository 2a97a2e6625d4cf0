#!/usr/bin/env -S npx tsx
/**
 * The `wisp` command. Verbs read like the user's day: build, emulate, flash, monitor.
 * Each verb lives in its own module; this file only dispatches and prints errors.
 */
import { build, BuildError, checkFirmware, type Target } from "./compiler/build.ts";
import { formatDiagnostic } from "./compiler/checker.ts";

const USAGE = `usage: wisp <command> [options]

commands:
  build [--target espruino|lua]   check the firmware subset, then write dist/espruino/*.js and dist/lua/*.lua
  check                           run only the subset checker and the type checker
  emulate [options]               run the built app on an emulated board (see: wisp emulate --help)
  ports [--json]                  list serial ports (vendor/product where known)
  flash [--port P] [options]      build, upload the app and device settings over serial (see: wisp flash --help)
  flash-firmware --port P --bin F write an Espruino interpreter image through the ESP32 ROM bootloader
  monitor --port P [--baud N]     serial console (Ctrl-] quits)
  web [--port N] [--broker ws://] browser page: live view over MQTT-over-WebSocket, board panel over Web Serial (see: wisp web --help)
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "build": {
      const i = rest.indexOf("--target");
      const targets = i >= 0 ? [rest[i + 1] as Target] : undefined;
      if (targets && !["espruino", "lua"].includes(targets[0])) {
        console.error(`wisp build: unknown --target '${targets[0]}' (expected espruino or lua)`);
        return 2;
      }
      await build({ targets, log: (l) => console.log(l), checkOnInterpreter: true });
      return 0;
    }
    case "check": {
      const problems = checkFirmware("firmware");
      for (const p of problems) console.error(formatDiagnostic(p));
      console.log(problems.length === 0 ? "firmware: subset ok" : `firmware: ${problems.length} problem(s)`);
      return problems.length === 0 ? 0 : 1;
    }
    case "emulate": {
      const { runEmulate } = await import("./emulator/cli-emulate.ts");
      return await runEmulate(rest);
    }
    case "ports": {
      const { runPorts } = await import("./flasher/cli-flash.ts");
      return await runPorts(rest);
    }
    case "flash": {
      const { runFlash } = await import("./flasher/cli-flash.ts");
      return await runFlash(rest);
    }
    case "flash-firmware": {
      const { runFlashFirmware } = await import("./flasher/firmware.ts");
      return await runFlashFirmware(rest);
    }
    case "monitor": {
      const { runMonitor } = await import("./flasher/cli-flash.ts");
      return await runMonitor(rest);
    }
    case "web": {
      const { runWeb } = await import("./web/server.ts");
      return await runWeb(rest);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`wisp: unknown command '${cmd}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof BuildError) console.error(`wisp: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
