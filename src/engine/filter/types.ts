// The filter reads flows through this structural view only, so the filter
// module never imports the flow classes and can be tested with plain objects.
// Field names are mitmproxy's, because that is what filter users know.

/** One message of a WebSocket, TCP or UDP conversation. */
export interface FilterableMessage {
  readonly from_client: boolean;
  readonly content: Uint8Array;
}

/**
 * Header fields as `[name, value]` byte pairs (one char per byte) in wire order. Must be
 * re-iterable: `~h` and `~t` may walk the same headers more than once per evaluation. A flow's
 * Headers iterates as decoded text (the addon API) and gives the bytes from `byteFields`, which
 * the filter then reads instead.
 */
export type FilterableHeaders = Iterable<readonly [string, string]> & { byteFields?(): Iterable<readonly [string, string]> };

export interface FilterableHTTPRequest {
  readonly method: string;
  readonly pretty_url: string;
  readonly host: string;
  readonly pretty_host: string;
  /** The Host header, or an HTTP/2 request's authority (which is in no header field). */
  readonly host_header?: string | undefined;
  readonly headers: FilterableHeaders;
  /** Decoded body (after Content-Encoding; as it is when it does not decode), `undefined` when not available. */
  get_content(strict: false): Uint8Array | undefined;
}

export interface FilterableHTTPResponse {
  readonly status_code: number;
  readonly headers: FilterableHeaders;
  /** Decoded body (after Content-Encoding; as it is when it does not decode), `undefined` when not available. */
  get_content(strict: false): Uint8Array | undefined;
}

export interface FilterableDNSRequest {
  readonly questions: ReadonlyArray<{ readonly name: string }>;
  toString(): string;
}

export interface FilterableDNSResponse {
  toString(): string;
}

interface FilterableFlowBase {
  /** Marker string; empty means not marked. */
  readonly marked: string;
  readonly is_replay: "request" | "response" | null;
  readonly comment: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly error?: { readonly msg: string } | undefined;
  readonly intercepted: boolean;
  readonly client_conn: { readonly peername: readonly [string, number] | undefined };
  readonly server_conn: { readonly address: readonly [string, number] | undefined };
}

export interface FilterableHTTPFlow extends FilterableFlowBase {
  readonly type: "http";
  readonly request: FilterableHTTPRequest;
  readonly response?: FilterableHTTPResponse | undefined;
  readonly websocket?: { readonly messages: ReadonlyArray<FilterableMessage> } | undefined;
}

export interface FilterableStreamFlow extends FilterableFlowBase {
  readonly type: "tcp" | "udp";
  readonly messages: ReadonlyArray<FilterableMessage>;
}

export interface FilterableDNSFlow extends FilterableFlowBase {
  readonly type: "dns";
  readonly request: FilterableDNSRequest;
  readonly response?: FilterableDNSResponse | undefined;
}

export type FilterableFlow = FilterableHTTPFlow | FilterableStreamFlow | FilterableDNSFlow;
