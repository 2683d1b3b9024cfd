/** A failure the client should see with this status; `close` when the connection cannot go on after it. */
export class ClientFacingError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly close = false,
  ) {
    super(message);
  }
}
