export { chooseLayout, detectCgroupDriver, resolveCgroupRoot } from "./detect.js";
export type { CgroupCheckItem, CgroupDriver } from "./types.js";
export { SUPERVISOR_CGROUP } from "./types.js";
export { CgroupV1Driver } from "./v1.js";
export { CgroupV2Driver } from "./v2.js";
