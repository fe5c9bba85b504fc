import type { ApiSettings } from "../config/settings.js";
import { MAX_LIMITS } from "../run/limits.js";
import type { ApiOptions } from "./context.js";

/** The API's options: its settings (WARREN_API_KEYS, …), and what the command learned at start. */
export function apiOptions(settings: ApiSettings, ports: readonly number[], version: string): ApiOptions {
  return Object.freeze({ ...settings, maxima: MAX_LIMITS, ports, version });
}
