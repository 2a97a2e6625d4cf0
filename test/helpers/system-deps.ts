/**
 * System packages (lua5.3, mosquitto, socat) come from Debian. On a laptop without
 * them the tests that need them skip with a printed reason; CI sets
 * WISP_REQUIRE_SYSTEM_DEPS=1 (in .ci/run) so that any such skip becomes a failure.
 */
import { spawnSync } from "node:child_process";

export function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/**
 * Returns false (skip) or true (run). Throws when the dependency is missing and
 * the environment demands it. Use as: `test("x", { skip: skipUnless("lua5.3") }, ...)`.
 */
export function skipUnless(cmd: string): false | string {
  if (hasCommand(cmd)) return false;
  const reason = `${cmd} is not installed (Debian package); install it to run this test`;
  if (process.env.WISP_REQUIRE_SYSTEM_DEPS === "1") {
    throw new Error(`WISP_REQUIRE_SYSTEM_DEPS=1 but ${reason}`);
  }
  console.log(`# skip: ${reason}`);
  return reason;
}
