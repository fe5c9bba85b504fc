import { loadSettings } from "../../src/config/load-settings.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../../src/sandbox/cgroup/detect.js";
import { cgroupDriverContract } from "./cgroup.case.js";

// Whichever driver this machine uses, at WARREN_CGROUP_ROOT (or its default).
const driver = detectCgroupDriver();
cgroupDriverContract(driver, resolveCgroupRoot(driver, loadSettings(process.env).sandbox.cgroupRoot));
