/** A write the store refused because it would break a uniqueness rule (e.g. two virtual keys with one hash). */
export class StoreConflictError extends Error {
  override readonly name = "StoreConflictError";
}
