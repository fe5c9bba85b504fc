/**
 * Base64 as Judge0 speaks it (Ruby's Base64.encode64 / decode64): encoding
 * wraps every 60 characters and ends with a newline; decoding ignores what
 * is not of the alphabet (line breaks, stray characters) and never fails.
 */
export function encode64(bytes: Buffer | string): string {
  const text = (typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes).toString("base64");
  if (text === "") return "";
  let out = "";
  for (let i = 0; i < text.length; i += 60) out += `${text.slice(i, i + 60)}\n`;
  return out;
}

export function decode64(text: string): Buffer {
  return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ""), "base64");
}
