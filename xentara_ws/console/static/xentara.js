// The Xentara WebSocket API v2 in the browser: CBOR packets over /api/ws (cbor-x does the CBOR).
// Vocabulary and numbers follow spec/xentara-websocket-api.md; sub-session administration
// (opcodes 257-260) follows spec/xentara-ws-extensions.md section 3.

const CBOR = globalThis.CBOR;

export const Opcode = Object.freeze({
  SERVER_INFORMATION: 0, BROWSE: 1, META_DATA: 2, LOOKUP: 3, READ: 4, WRITE: 5, SUBSCRIBE: 6,
  UNSUBSCRIBE: 7, GET_STAGE: 8, RESUME: 9, SUSPEND: 10, SHUTDOWN: 11, CLIENT_HELLO: 14,
  LIST_SUB_SESSIONS: 257, DESCRIBE_SUB_SESSIONS: 258, ALTER_SUB_SESSION: 259, DELETE_SUB_SESSION: 260,
});

export const ErrorCode = Object.freeze({ COMMAND_NOT_FOUND: -32601, ACCESS_DENIED: -32102 });

export const CATEGORIES = ["Root Element", "Element Group", "Data Point", "Timer", "Execution Track",
  "Execution Pipeline", "Device", "Sub Device", "Device Group", "Data Point Group", "Transaction",
  "Microservice", "AI", "Data Storage", "External Interface", "Special Purpose"];
export const CATEGORY_ICONS = ["⌂", "▣", "◉", "◷", "↠", "⇉", "▭", "▫", "▦", "▥", "⇄", "⚙", "✱", "▤", "⇆", "✳"];
export const DATA_TYPES = ["Boolean", "SignedInteger8", "SignedInteger16", "SignedInteger32", "SignedInteger64",
  "UnsignedInteger8", "UnsignedInteger16", "UnsignedInteger32", "UnsignedInteger64", "Float32", "Float64",
  "String", "WString", "U8String", "U16String", "U32String", "TimePoint", "Uuid", "Quality", "ElementCategory",
  "ErrorCode", "Custom", "None"];
export const ACCESS = ["read only", "write only", "read and write"];
export const QUALITIES = ["Good", "Acceptable", "Unreliable", "Bad"];
export const STAGES = ["Start Up", "Pre Operational", "Operational", "Post Operational", "Shutdown", "Suspended"];
export const Attribute = Object.freeze({ VALUE: 11, QUALITY: 9, CHANGE_TIME: 7, CATEGORY: 4 });

/** A UUID on the wire: CBOR tag 37 around 16 bytes. */
export class Uuid {
  constructor(bytes) { this.bytes = Uint8Array.from(bytes); }
  static nil() { return new Uuid(new Uint8Array(16)); }
  static parse(text) {
    const hex = String(text).replace(/-/g, "").trim();
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a UUID: ${text}`);
    return new Uuid(hex.match(/../g).map((pair) => parseInt(pair, 16)));
  }
  toString() {
    const hex = Array.from(this.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

CBOR.addExtension({ Class: Uuid, tag: 37, encode: (uuid, encode) => encode(uuid.bytes), decode: (bytes) => new Uuid(bytes) });

const options = { mapsAsObjects: false, useRecords: false, tagUint8Array: false, variableMapSize: true };
const encoder = new CBOR.Encoder(options);
const decoder = new CBOR.Decoder(options);
export const Tag = CBOR.Tag;

/** A key for attribute ids, which are integers or UUIDs. */
export function attributeKey(id) { return id instanceof Uuid ? id.toString() : String(id); }

/** Milliseconds since the epoch of a tag-1001 time stamp (or tag 1), else null. */
export function timeOf(value) {
  if (value instanceof Tag && value.tag === 1) return Number(value.value) * 1000;
  if (!(value instanceof Tag) || value.tag !== 1001 || !(value.value instanceof Map)) return null;
  const map = value.value;
  if (map.has(4)) {
    const fraction = map.get(4);
    // cbor-x turns the tag-4 decimal fraction into a number of seconds already.
    if (typeof fraction === "number") return fraction * 1000;
    if (fraction instanceof Tag && Array.isArray(fraction.value)) {
      const [exponent, mantissa] = fraction.value;
      return Number(mantissa) * 10 ** (Number(exponent) + 3);
    }
  }
  if (map.has(1)) return Number(map.get(1)) * 1000;
  return null;
}

/** A JS Date as the wire's time stamp, nanoseconds (spec 4.4). */
export function timeStamp(date) {
  const ns = BigInt(date.getTime()) * 1000000n;
  return new Tag(new Map([[4, new Tag([-9, ns], 4)]]), 1001);
}

/** A time (ms since the epoch) for display; the wire's minimum and maximum time stamps read as words. */
export function formatTime(ms) {
  if (ms === -Infinity) return "never";
  if (ms === Infinity) return "the end of time";
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return ms < 0 ? "never" : "the end of time";
  return date.toISOString();
}

/** A wire value for display. */
export function formatValue(value, attributeId) {
  if (value === undefined) return "";
  if (value === null) return "null";
  if (attributeId === Attribute.QUALITY && typeof value === "number") return QUALITIES[value] ?? String(value);
  const time = timeOf(value);
  if (time !== null) return formatTime(time);
  if (value instanceof Uuid) return value.toString();
  if (value instanceof Uint8Array) return `bytes(${value.length})`;
  if (value instanceof Tag) return `${value.tag}(${formatValue(value.value)})`;
  if (typeof value === "number" && !Number.isInteger(value)) return String(Math.round(value * 1e6) / 1e6);
  return String(value);
}

/** A failed request: the error packet's code and text. */
export class XentaraError extends Error {
  constructor(code, message) {
    super(`${message} (${code})`);
    this.code = code;
    this.text = message;
  }
}

/** An attribute value in a read reply or an event: 121(value) or 122({0: code, 1: text}). */
export function unwrap(tagged) {
  if (tagged instanceof Tag && tagged.tag === 121) return { value: tagged.value };
  if (tagged instanceof Tag && tagged.tag === 122) {
    const error = tagged.value instanceof Map ? tagged.value : new Map();
    return { error: new XentaraError(error.get(0), error.get(1) ?? "error") };
  }
  return { value: tagged };
}

/** One connection to /api/ws. Requests are promises; data-change events go to subscription listeners. */
export class XentaraConnection {
  constructor(socket) {
    this.socket = socket;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map();
    this.closeListeners = new Set();
    this.closed = false;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", () => this.#closed());
  }

  /** Open /api/ws of this page's own server (the console cookie travels with it) and say hello. */
  static open(url = defaultUrl()) {
    return new Promise((resolve, reject) => {
      let socket;
      try {
        socket = new WebSocket(url);
      } catch (error) {
        reject(error);
        return;
      }
      const failed = () => reject(new Error("the server refused the WebSocket connection"));
      socket.addEventListener("error", failed, { once: true });
      socket.addEventListener("open", async () => {
        socket.removeEventListener("error", failed);
        const connection = new XentaraConnection(socket);
        try {
          await connection.request(Opcode.CLIENT_HELLO, new Map([[0, 1], [1, 1]]));
          resolve(connection);
        } catch (error) {
          reject(error);
        }
      }, { once: true });
    });
  }

  request(opcode, params) {
    if (this.closed) return Promise.reject(new Error("the connection is closed"));
    const id = this.nextId++;
    const packet = params === undefined ? [0, id, opcode] : [0, id, opcode, params];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(encoder.encode([packet]));
    });
  }

  browse(uuid, depth = 1) { return this.request(Opcode.BROWSE, new Map([[0, uuid], [1, depth]])); }
  lookup(primaryKey) { return this.request(Opcode.LOOKUP, new Map([[0, primaryKey]])); }
  metaData(uuid) { return this.request(Opcode.META_DATA, new Map([[0, uuid], [1, [0, 1, 2, 3]]])); }
  read(uuid, ids) { return this.request(Opcode.READ, new Map([[0, uuid], [1, ids]])); }
  write(uuid, id, value) { return this.request(Opcode.WRITE, new Map([[0, uuid], [1, id], [2, value]])); }

  async subscribe(uuid, ids, listener, maximumUpdateRate = 100) {
    const params = new Map([[0, [new Map([[0, uuid], [1, ids]])]], [1, maximumUpdateRate]]);
    // Events may come right after the reply: listen under a provisional key until the id is known.
    const desired = Uuid.parse(crypto.randomUUID());
    params.set(3, desired);
    this.listeners.set(desired.toString(), listener);
    try {
      const id = await this.request(Opcode.SUBSCRIBE, params);
      const key = (id instanceof Uuid ? id : desired).toString();
      if (key !== desired.toString()) {
        this.listeners.delete(desired.toString());
        this.listeners.set(key, listener);
      }
      return id instanceof Uuid ? id : desired;
    } catch (error) {
      this.listeners.delete(desired.toString());
      throw error;
    }
  }

  unsubscribe(id) {
    this.listeners.delete(id.toString());
    return this.closed ? Promise.resolve() : this.request(Opcode.UNSUBSCRIBE, new Map([[0, id]])).catch(() => {});
  }

  onClose(listener) {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close() { this.socket.close(1000, "closing websocket"); }

  #receive(data) {
    let message;
    try {
      message = decoder.decode(new Uint8Array(data));
    } catch (error) {
      console.error("undecodable message", error);
      return;
    }
    for (const packet of message) {
      const [type] = packet;
      if (type === 8) {
        const event = packet[2];
        if (packet[1] !== 0 || !(event instanceof Map)) continue;
        const listener = this.listeners.get(String(event.get(0)));
        if (listener) listener(event.get(1), event.get(2));
        continue;
      }
      const waiter = this.pending.get(packet[1]);
      if (!waiter) continue;
      this.pending.delete(packet[1]);
      if (type === 1) waiter.resolve(packet[2]);
      else {
        const error = packet[2] instanceof Map ? packet[2] : new Map();
        waiter.reject(new XentaraError(error.get(0), error.get(1) ?? "error"));
      }
    }
  }

  #closed() {
    this.closed = true;
    for (const waiter of this.pending.values()) waiter.reject(new Error("the connection closed"));
    this.pending.clear();
    for (const listener of this.closeListeners) listener();
  }
}

export function defaultUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`;
}

/** A value typed in a form, as the wire value for an attribute of this data type (throws when it cannot be). */
export function parseInput(text, dataType) {
  const name = DATA_TYPES[dataType];
  const trimmed = String(text).trim();
  if (name === "Boolean") {
    if (trimmed === "true") return true;
    if (trimmed === "false") return false;
    throw new Error("enter true or false");
  }
  if (/^(Signed|Unsigned)Integer/.test(name) || name === "Quality" || name === "ElementCategory" || name === "ErrorCode") {
    if (!/^[-+]?\d+$/.test(trimmed)) throw new Error("enter a whole number");
    return BigInt(trimmed);
  }
  if (name === "Float32" || name === "Float64") {
    const number = Number(trimmed);
    if (trimmed === "" || Number.isNaN(number)) throw new Error("enter a number");
    return number;
  }
  if (/String$/.test(name)) return String(text);
  if (name === "TimePoint") {
    const date = new Date(trimmed);
    if (Number.isNaN(date.getTime())) throw new Error("enter a date and time");
    return timeStamp(date);
  }
  if (name === "Uuid") return Uuid.parse(trimmed);
  throw new Error(`values of type ${name} cannot be written here`);
}

/** Whether the console can offer a form for this data type. */
export function writableType(dataType) {
  return !["Custom", "None", undefined].includes(DATA_TYPES[dataType]);
}
