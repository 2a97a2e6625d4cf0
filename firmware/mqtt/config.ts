/**
 * Everything the MQTT client needs, fixed at boot (docs/client.md). Sizes are bytes
 * unless noted; every buffer is allocated once, in the Client constructor.
 */
import { ConnectOptions } from "./packet";

export type MessageHandler = (topic: string, payload: string, qos: number, retain: boolean) => void;

/** The client settings. */
export class ClientConfig {
  host = "";
  port = 1883;
  secure = false;
  /** CONNECT fields: client id, clean session, keep-alive, credentials, will. */
  connect: ConnectOptions = new ConnectOptions();
  /** RX buffer: the largest packet body accepted. */
  rxSize = 512;
  /** TX buffer: QoS 0 publishes, acks, pings, (un)subscribes, CONNECT. */
  txSize = 512;
  /** In-flight slots (outgoing QoS 1/2 awaiting their acks) and the size of each. */
  inflight = 4;
  slotSize = 256;
  /** Offline queue: slots (0 = no queue) and the size of each (0 = slotSize). */
  queue = 8;
  queueSlotSize = 0;
  /** Subscription table entries. */
  maxSubs = 8;
  /**
   * Incoming QoS 2 ids remembered until PUBREL. When a QoS 2 PUBLISH finds the table
   * full, it is neither delivered nor acknowledged and the connection is closed.
   */
  qos2Ids = 16;
  /** Dead link: no answer this long after a PINGREQ (0 = half the keep-alive, i.e. 1.5x in all). */
  pingTimeoutMs = 0;
  /** Reconnect back-off: doubles from min to max, with jitter (each delay is 50..100 %). */
  backoffMinMs = 1000;
  backoffMaxMs = 60000;
  /**
   * After a refusal (CONNACK 1, 2, 4, 5), a suspected take-over or repeated protocol
   * errors the back-off goes on doubling from backoffMaxMs up to this ceiling: the
   * client never gives up by itself, it only asks less often.
   */
  backoffCeilingMs = 3600000;
  /** How often to look again while Wi-Fi is down. */
  wifiPollMs = 2000;
  /** CONNACK must arrive within this after the transport opens. */
  connectTimeoutMs = 10000;
  /**
   * Take-over (or a broker that breaks the protocol): `takeoverCount` connections in a
   * row closed within `takeoverMs` of CONNACK, or failed on a protocol error.
   */
  takeoverMs = 3000;
  takeoverCount = 3;
  /** Oversized incoming PUBLISH: false = report, acknowledge and skip it; true = report and close. */
  closeOnOversize = false;
  /** Reconnect by itself after a lost connection. */
  autoReconnect = true;
  /**
   * Birth message (null topic = none), published after every CONNACK, after the
   * re-sends of the session and before the offline queue drains.
   */
  birthTopic: string | null = null;
  birthMessage = "";
  birthQos = 1;
  birthRetain = true;
}
