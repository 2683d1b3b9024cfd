/**
 * Reads the server name (SNI) and ALPN protocols from a TLS ClientHello, as far as the first
 * bytes of a connection hold it. Knowing the name before the handshake lets the proxy hand the
 * TLSSocket the right certificate up front instead of through an SNICallback round trip, which
 * costs every new connection a pause and resume of the handshake.
 */
export interface ClientHelloInfo {
  sni: string | undefined;
  alpn: string[];
}

/** All of a ClientHello that mitmproxy's ClientHello gives addons (JA3 and the like fingerprint with it). */
export interface FullClientHello extends ClientHelloInfo {
  cipherSuites: number[];
  /** Each extension's type and data, in the order sent. */
  extensions: [number, Uint8Array][];
}

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

/** undefined when `data` is not a complete ClientHello record (fragmented, truncated or not TLS). */
export function parseClientHello(data: Uint8Array): ClientHelloInfo | undefined {
  return readClientHello(data, false);
}

/** As parseClientHello, with the cipher suites and every extension: for tls_clienthello, not every handshake. */
export function parseFullClientHello(data: Uint8Array): FullClientHello | undefined {
  return readClientHello(data, true) as FullClientHello | undefined;
}

function readClientHello(data: Uint8Array, full: boolean): ClientHelloInfo | FullClientHello | undefined {
  if (data.length < 5 || data[0] !== HANDSHAKE) return undefined;
  const recordEnd = 5 + ((data[3]! << 8) | data[4]!);
  if (recordEnd > data.length) return undefined;
  const r = new Reader(data, 5, recordEnd);
  if (r.u8() !== CLIENT_HELLO) return undefined;
  const bodyEnd = r.at + 3 + r.u24();
  // A ClientHello split over several records is legal but rare; the caller falls back to SNICallback.
  if (bodyEnd > recordEnd) return undefined;
  r.skip(2 + 32); // client_version, random
  r.skip(r.u8()); // session_id
  const suitesLength = r.u16();
  // Every handshake reads the name and ALPN; only tls_clienthello's reader the rest, so only it builds the lists.
  const cipherSuites: number[] | undefined = full ? [] : undefined;
  const extensions: [number, Uint8Array][] | undefined = full ? [] : undefined;
  if (cipherSuites) for (let end = r.at + suitesLength; r.ok && r.at + 2 <= end; ) cipherSuites.push(r.u16());
  else r.skip(suitesLength);
  r.skip(r.u8()); // compression_methods
  const info: ClientHelloInfo | FullClientHello = cipherSuites && extensions ? { sni: undefined, alpn: [], cipherSuites, extensions } : { sni: undefined, alpn: [] };
  if (r.at === bodyEnd) return r.ok ? info : undefined;
  const extEnd = r.at + 2 + r.u16();
  if (extEnd > bodyEnd) return undefined;
  while (r.at + 4 <= extEnd) {
    const type = r.u16();
    const end = r.at + 2 + r.u16();
    if (end > extEnd) return undefined;
    if (type === EXT_SERVER_NAME) info.sni = serverName(new Reader(data, r.at, end));
    else if (type === EXT_ALPN) info.alpn = protocols(new Reader(data, r.at, end));
    extensions?.push([type, data.subarray(r.at, end)]);
    r.at = end;
  }
  return r.ok ? info : undefined;
}

function serverName(r: Reader): string | undefined {
  const listEnd = r.at + 2 + r.u16();
  while (r.ok && r.at + 3 <= listEnd) {
    const kind = r.u8();
    const name = r.bytes(r.u16());
    if (kind === 0 && r.ok) return Buffer.from(name).toString("latin1");
  }
  return undefined;
}

function protocols(r: Reader): string[] {
  const out: string[] = [];
  const listEnd = r.at + 2 + r.u16();
  while (r.ok && r.at < listEnd) {
    const p = r.bytes(r.u8());
    if (r.ok) out.push(Buffer.from(p).toString("latin1"));
  }
  return out;
}

/** Bounds-checked big-endian reads; a read past `end` clears `ok` instead of throwing. */
class Reader {
  ok = true;
  constructor(
    private readonly data: Uint8Array,
    public at: number,
    private readonly end: number,
  ) {}

  private take(n: number): number {
    const start = this.at;
    this.at += n;
    if (this.at > this.end) this.ok = false;
    return start;
  }

  u8(): number {
    const i = this.take(1);
    return this.ok ? this.data[i]! : 0;
  }

  u16(): number {
    const i = this.take(2);
    return this.ok ? (this.data[i]! << 8) | this.data[i + 1]! : 0;
  }

  u24(): number {
    const i = this.take(3);
    return this.ok ? (this.data[i]! << 16) | (this.data[i + 1]! << 8) | this.data[i + 2]! : 0;
  }

  skip(n: number): void {
    this.take(n);
  }

  bytes(n: number): Uint8Array {
    const i = this.take(n);
    return this.ok ? this.data.subarray(i, i + n) : new Uint8Array(0);
  }
}
