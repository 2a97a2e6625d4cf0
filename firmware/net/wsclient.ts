/**
 * Bundle entry for tests and boards that build the client themselves: the MQTT
 * client (../mqtt/client.ts) plus the WebSocket transport (websocket.ts).
 */
export * from "../mqtt/client";
export * from "./websocket";
