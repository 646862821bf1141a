import type { InboundFormat, StreamEncoder } from "../format.js";
import { openAIErrorBody } from "../openai/format.js";
import { responsesToChat } from "./request.js";
import { chatToResponses } from "./response.js";
import { ResponsesStreamEncoder } from "./stream.js";

// OpenAI's Responses API (POST /v1/responses) for providers without one: requests map onto chat
// completions and answers come back as Responses objects and events. OpenAI's own provider never comes
// through here; its Responses requests pass through as bytes (the byte leg, src/pipeline/byte-legs.ts).

export const responsesFormat: InboundFormat = {
  name: "responses",
  toCanonical: (body) => responsesToChat(body),
  fromCanonical: chatToResponses,
  streamEncoder: (requestedModel): StreamEncoder => new ResponsesStreamEncoder(requestedModel),
  // The Responses API answers errors in OpenAI's usual shape.
  errorBody: openAIErrorBody,
};
