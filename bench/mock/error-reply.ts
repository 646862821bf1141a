/** A provider's error answer as a mock sends it: the status, its headers, and the body in the provider's shape. */
export interface MockErrorReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}
