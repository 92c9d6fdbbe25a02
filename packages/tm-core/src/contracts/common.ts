/** Cancellation for long operations. */
export interface AbortOptions {
  readonly signal?: AbortSignal
}
