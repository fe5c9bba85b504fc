/** Judge0 CE's statuses (app/enumerations/status.rb), ids and descriptions as its clients compare them. */
export const STATUSES = [
  { id: 1, description: "In Queue" },
  { id: 2, description: "Processing" },
  { id: 3, description: "Accepted" },
  { id: 4, description: "Wrong Answer" },
  { id: 5, description: "Time Limit Exceeded" },
  { id: 6, description: "Compilation Error" },
  { id: 7, description: "Runtime Error (SIGSEGV)" },
  { id: 8, description: "Runtime Error (SIGXFSZ)" },
  { id: 9, description: "Runtime Error (SIGFPE)" },
  { id: 10, description: "Runtime Error (SIGABRT)" },
  { id: 11, description: "Runtime Error (NZEC)" },
  { id: 12, description: "Runtime Error (Other)" },
  { id: 13, description: "Internal Error" },
  { id: 14, description: "Exec Format Error" },
] as const;

export type StatusId = (typeof STATUSES)[number]["id"];

export const STATUS = Object.freeze({
  queue: 1,
  process: 2,
  accepted: 3,
  wrongAnswer: 4,
  timeLimit: 5,
  compileError: 6,
  sigsegv: 7,
  sigxfsz: 8,
  sigfpe: 9,
  sigabrt: 10,
  nzec: 11,
  other: 12,
  internal: 13,
  execFormat: 14,
} as const satisfies Record<string, StatusId>);

export function statusOf(id: StatusId): { id: StatusId; description: string } {
  return { id, description: STATUSES[id - 1]!.description };
}

/** The status of a program killed by signal NUMBER, as Judge0 names it (SIGSEGV, SIGXFSZ, SIGFPE, SIGABRT; any other is "Other"). */
export function signalStatus(signal: number): StatusId {
  switch (signal) {
    case 11:
      return STATUS.sigsegv;
    case 25:
      return STATUS.sigxfsz;
    case 8:
      return STATUS.sigfpe;
    case 6:
      return STATUS.sigabrt;
    default:
      return STATUS.other;
  }
}
