/**
 * The signals a session's client may send its program (docs/api-extensions.md,
 * *Sessions*): the ones a terminal sends (Ctrl-C, Ctrl-\, a hang-up), the
 * ones a shell's `kill` sends, and the two left to programs. Not SIGSTOP or
 * SIGTSTP: a stopped program would still run out its wall time, holding its
 * sandbox, with nothing to show for it.
 */
export const SESSION_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2"] as const;

export type SessionSignal = (typeof SESSION_SIGNALS)[number];

export function isSessionSignal(name: unknown): name is SessionSignal {
  return SESSION_SIGNALS.includes(name as SessionSignal);
}
