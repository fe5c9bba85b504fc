import type { Limits } from "../../../run/limits.js";
import { REQUEST_BOUNDS } from "../../../run/request.js";

/** Judge0's version that this API reproduces (clients read it from /about and /version). */
export const JUDGE0_VERSION = "1.13.1";

/** At most this many submissions in a batch (Judge0's MAX_SUBMISSION_BATCH_SIZE). */
export const MAX_BATCH = 20;

/** The longest compiler_options and command_line_arguments Judge0 takes. */
export const MAX_OPTION_CHARS = 512;

/** Submissions per page of GET /submissions: Judge0's default, and Warren's bound (each may carry megabytes of output). */
export const PER_PAGE = Object.freeze({ default: 20, max: 100 });

/**
 * Judge0's defaults and maxima (judge0.conf), in its units (seconds, KB),
 * each maximum no higher than what this server allows (its maxima) and each
 * default no higher than its maximum: what /config_info reports and
 * submissions are held to.
 */
export function judge0Config(maxima: Limits) {
  const cap = (value: number, max: number) => Math.min(value, max);
  const maxCpu = cap(15, maxima.cpuTimeMs / 1000);
  const maxWall = cap(20, maxima.wallTimeMs / 1000);
  const maxMemory = cap(512_000, maxima.memoryMb * 1024);
  const maxProcesses = cap(120, maxima.processes);
  const maxFileSize = cap(4096, maxima.outputKb);
  return Object.freeze({
    cpu_time_limit: cap(5, maxCpu),
    max_cpu_time_limit: maxCpu,
    cpu_extra_time: 1,
    max_cpu_extra_time: 5,
    wall_time_limit: cap(10, maxWall),
    max_wall_time_limit: maxWall,
    memory_limit: cap(128_000, maxMemory),
    max_memory_limit: maxMemory,
    stack_limit: 64_000,
    max_stack_limit: 128_000,
    max_processes_and_or_threads: cap(60, maxProcesses),
    max_max_processes_and_or_threads: maxProcesses,
    max_file_size: cap(1024, maxFileSize),
    max_max_file_size: maxFileSize,
    number_of_runs: 1,
    max_number_of_runs: 20,
  });
}

export type Judge0Config = ReturnType<typeof judge0Config>;

/** GET /config_info: every key Judge0 v1.13.1 answers, with this server's values. */
export function configInfo(maxima: Limits, waitMs: number) {
  const config = judge0Config(maxima);
  return {
    maintenance_mode: false,
    enable_wait_result: true,
    enable_compiler_options: false,
    allowed_languages_for_compile_options: [],
    enable_command_line_arguments: true,
    enable_submission_delete: true,
    enable_callbacks: true,
    callbacks_max_tries: 3,
    callbacks_timeout: 5,
    enable_additional_files: true,
    max_queue_size: 100,
    cpu_time_limit: config.cpu_time_limit,
    max_cpu_time_limit: config.max_cpu_time_limit,
    cpu_extra_time: config.cpu_extra_time,
    max_cpu_extra_time: config.max_cpu_extra_time,
    wall_time_limit: config.wall_time_limit,
    max_wall_time_limit: config.max_wall_time_limit,
    memory_limit: config.memory_limit,
    max_memory_limit: config.max_memory_limit,
    stack_limit: config.stack_limit,
    max_stack_limit: config.max_stack_limit,
    max_processes_and_or_threads: config.max_processes_and_or_threads,
    max_max_processes_and_or_threads: config.max_max_processes_and_or_threads,
    enable_per_process_and_thread_time_limit: false,
    allow_enable_per_process_and_thread_time_limit: true,
    enable_per_process_and_thread_memory_limit: false,
    allow_enable_per_process_and_thread_memory_limit: true,
    max_file_size: config.max_file_size,
    max_max_file_size: config.max_max_file_size,
    number_of_runs: config.number_of_runs,
    max_number_of_runs: config.max_number_of_runs,
    redirect_stderr_to_stdout: false,
    max_extract_size: 10240,
    enable_batched_submissions: true,
    max_submission_batch_size: MAX_BATCH,
    submission_cache_duration: 1.0,
    use_docs_as_homepage: false,
    allow_enable_network: false,
    enable_network: false,
    // Warren's own, beside Judge0's keys: how long ?wait=true waits, and the longest texts taken.
    warren_wait_ms: waitMs,
    warren_max_source_code_chars: REQUEST_BOUNDS.fileChars,
    warren_max_stdin_chars: REQUEST_BOUNDS.stdinChars,
  };
}
