/** `wisp flash-firmware`: the ESP32 ROM-bootloader path (not implemented yet). */
export async function runFlashFirmware(_argv: string[]): Promise<number> {
  console.error("wisp flash-firmware: not implemented yet; use esptool.py write_flash 0x1000 <image.bin> meanwhile");
  return 1;
}
