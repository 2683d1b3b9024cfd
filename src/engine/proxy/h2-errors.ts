/** RFC 9113's error codes, by number. */
const H2_ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"];

/** An HTTP/2 error code by its RFC 9113 name (CANCEL, REFUSED_STREAM…), or its number. */
export function h2ErrorName(code: number | undefined): string {
  return (code !== undefined && H2_ERRORS[code]) || `code ${code}`;
}
