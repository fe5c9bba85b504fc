/** Bytes from base64 (atob: no Buffer, so the client runs wherever fetch does). */
export function base64Bytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** An output event's bytes: its text, or the bytes that were not valid UTF-8. */
export function outputBytes(event: { readonly encoding: "utf8" | "base64"; readonly data: string }): Uint8Array {
  return event.encoding === "utf8" ? new TextEncoder().encode(event.data) : base64Bytes(event.data);
}

/** A finished invocation's response body (GET /v1/invocations/:id sends it base64). */
export function invocationBody(invocation: { readonly body?: string }): Uint8Array | undefined {
  return invocation.body === undefined ? undefined : base64Bytes(invocation.body);
}
