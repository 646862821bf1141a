// The management API's errors as values: every handler throws an AdminError for a request it refuses, and
// the router renders it as {"error": {"message", "type", "code", "param"}} with its status.

export type AdminErrorType =
  | "invalid_request_error"
  | "not_found_error"
  | "conflict_error"
  | "method_not_allowed"
  | "service_unavailable";

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly type: AdminErrorType,
    readonly code: string,
    message: string,
    /** The request field the error is about, when one is. */
    readonly param?: string,
  ) {
    super(message);
  }
}

/** A field's value is refused; the message starts with the field's path. */
export function invalidField(param: string, problem: string): AdminError {
  return new AdminError(400, "invalid_request_error", "invalid_field", `${param}: ${problem}`, param);
}

export function notFound(what: string, id: string): AdminError {
  return new AdminError(404, "not_found_error", "not_found", `no ${what} with id ${JSON.stringify(id)}`);
}

export function conflict(message: string, param?: string): AdminError {
  return new AdminError(409, "conflict_error", "conflict", message, param);
}
