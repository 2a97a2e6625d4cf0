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
      await build({ targets, log: (l) => console.log(l) });
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
