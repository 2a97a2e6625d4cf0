/**
 * Tests that need the real Espruino interpreter (host-tools/espruino/interpreter.ts).
 * Without it they skip with a reason naming ESPRUINO_BIN; under
 * WISP_REQUIRE_SYSTEM_DEPS=1 (CI) a missing interpreter is a failure instead.
 */
import { ESPRUINO_MISSING, findEspruino } from "../../host-tools/espruino/interpreter.ts";

export function skipUnlessEspruino(): false | string {
  if (findEspruino()) return false;
  if (process.env.WISP_REQUIRE_SYSTEM_DEPS === "1") throw new Error(`WISP_REQUIRE_SYSTEM_DEPS=1 but ${ESPRUINO_MISSING}`);
  console.log(`# skip: ${ESPRUINO_MISSING}`);
  return ESPRUINO_MISSING;
}
