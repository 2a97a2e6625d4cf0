/**
 * Bundle entry for tests and boards that build the client themselves: the MQTT
 * client (client.ts) plus the WebSocket transport (websocket.ts).
 */
export * from "./client";
export * from "./websocket";
