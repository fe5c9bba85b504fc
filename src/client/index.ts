export { WarrenClient, RunsApi, FunctionsApi, InvocationsApi, isPending } from "./warren-client.js";
export { WarrenApiError, WarrenConnectionError, WarrenResponseError } from "./errors.js";
export { WarrenError } from "../errors.js";
export { DEFAULT_MAX_RESPONSE_BYTES, type ClientOptions } from "./transport.js";
export type { EventsOptions } from "./run-events.js";
export { outputBytes, invocationBody } from "./bytes.js";
export type * from "./types.js";
