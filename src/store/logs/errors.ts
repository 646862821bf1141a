/** A log query the store refuses as asked (a bad status, cursor, limit or range): the API answers 400 with its message. */
export class LogQueryError extends Error {
  override readonly name = "LogQueryError";
}
