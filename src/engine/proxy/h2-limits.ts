/**
 * How many header fields an HTTP/2 message may have, both ways. Node's default (128 pairs,
 * pseudo-headers included) refused a request or response with more than ~125 fields
 * (ENHANCE_YOUR_CALM), which servers and browsers send (many Set-Cookie or Link fields) and
 * mitmproxy passes; the header block's size stays bounded by its 64 KiB default.
 */
export const H2_HEADER_LIMITS = { maxHeaderListPairs: 2000 } as const;

/**
 * What pryx's HTTP/2 connections to servers ask of them: no server push (as mitmproxy asks),
 * whose pushed responses no client asked for, would be downloaded and dropped with no flow.
 */
export const H2_UPSTREAM_SETTINGS = { enablePush: false } as const;
