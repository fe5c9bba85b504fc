// The published piston-client ships no types: what its tests use of it (node_modules/piston-client/index.js).
declare module "piston-client" {
  export interface PistonClient {
    runtimes(): Promise<unknown>;
    execute(language: string, code: string, config?: Record<string, unknown>): Promise<unknown>;
  }
  export function piston(options?: { server?: string }): PistonClient;
  export default piston;
}
