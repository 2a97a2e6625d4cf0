/**
 * Espruino's TLS encrypts but does not authenticate the broker: its socket setup
 * (libs/network/network.c, ssl_newSocketData) sets MBEDTLS_SSL_VERIFY_NONE
 * unconditionally and gives mbedtls a fixed host name, so any certificate is
 * accepted. Both `wisp flash` and `wisp emulate` print this warning when a board
 * running Espruino is pointed at an mqtts:// or wss:// broker. docs/device.md says
 * what that protects and what a user can do.
 */
import type { BoardConfig } from "./board.ts";
import type { DeviceSettingsJson } from "./settings.ts";

export function espruinoTlsWarning(board: BoardConfig, settings: Pick<DeviceSettingsJson, "brokerScheme" | "brokerHost" | "brokerPort">): string | null {
  if (!board.espruino) return null;
  if (settings.brokerScheme !== "mqtts" && settings.brokerScheme !== "wss") return null;
  return (
    `${board.id} runs Espruino ${board.espruino.version}, whose TLS does not verify the broker's certificate: ` +
    `${settings.brokerScheme}://${settings.brokerHost}:${settings.brokerPort} is encrypted against eavesdropping ` +
    `but not protected from a man-in-the-middle posing as the broker (see docs/device.md)`
  );
}
