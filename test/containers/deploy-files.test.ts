// deploy/compose.yaml and deploy/kubernetes/warren.yaml: they parse, every
// container is unprivileged (no privileged, every capability dropped, no
// privilege escalation, a non-root uid), the workers carry exactly the three
// things Warren needs in a container (an unmasked /proc, deploy/warren.json,
// their own delegated cgroup directories), and docs/containers.md explains
// each setting. No cluster or compose tool runs here: test/containers/run-containers.sh
// runs the same settings under podman.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { detectCgroupDriver } from "../../src/sandbox/cgroup/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONTROLLERS = ["memory", "pids", "cpu", "cpuacct"];
const DOC = fs.readFileSync(path.join(ROOT, "docs/containers.md"), "utf8");

// Our own files parsed, each field then checked by an expectation: no client input here.
type Json = Record<string, any>;

describe("deploy/compose.yaml", () => {
  const file = path.join(ROOT, "deploy/compose.yaml");
  const compose = parse(fs.readFileSync(file, "utf8"), { merge: true }) as Json;
  const services = compose.services as Record<string, Json>;
  const workers = Object.keys(services).filter((name) => name.startsWith("worker"));

  it("has Redis, the API alone and at least two workers", () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["redis", "api"]));
    expect(services.api?.command).toEqual(["serve", "--no-worker"]);
    expect(workers.length).toBeGreaterThanOrEqual(2);
    for (const name of workers) expect(services[name]?.command, name).toEqual(["worker"]);
  });

  it("runs every service unprivileged: no privileged, cap_drop ALL, no-new-privileges, uid 10000", () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.privileged, name).toBeUndefined();
      expect(service.cap_add, name).toBeUndefined();
      expect(service.cap_drop, name).toEqual(["ALL"]);
      expect(service.security_opt, name).toContain("no-new-privileges:true");
      expect(service.user, name).toBe("10000:10000");
    }
  });

  it("gives each worker an unmasked /proc, deploy/warren.json and its own cgroup directories", () => {
    const seen = new Set<string>();
    for (const name of workers) {
      const worker = services[name] as Json;
      expect(worker.security_opt).toContain("${WARREN_PROC_OPT:-unmask=/proc/*}");
      const seccomp = (worker.security_opt as string[]).find((option) => option.startsWith("seccomp="));
      expect(seccomp).toBe("seccomp=./warren.json");
      expect(worker.security_opt).toContain("apparmor=unconfined");
      expect(fs.existsSync(path.join(path.dirname(file), "warren.json"))).toBe(true);
      expect(worker.environment.WARREN_CGROUP_ROOT).toBe("/");
      for (const controller of CONTROLLERS) {
        const bind = (worker.volumes as string[]).find((volume) => volume.endsWith(`:/sys/fs/cgroup/${controller}:rw`));
        expect(bind, `${name} ${controller}`).toMatch(new RegExp(`^/sys/fs/cgroup/${controller}/[\\w.-]+:`));
        expect(seen.has(bind as string), `${bind} shared`).toBe(false);
        seen.add(bind as string);
      }
    }
  });

  it("gives the API its keys and an address other containers reach", () => {
    expect(services.api?.environment.WARREN_API_KEYS).toMatch(/^\$\{WARREN_API_KEYS:\?/);
    expect(services.api?.environment.WARREN_HOST).toBe("0.0.0.0");
  });
});

describe("deploy/kubernetes/warren.yaml", () => {
  const documents = parseAllDocuments(fs.readFileSync(path.join(ROOT, "deploy/kubernetes/warren.yaml"), "utf8"));
  const objects = documents.map((document) => {
    expect(document.errors).toEqual([]);
    return document.toJS() as Json;
  });
  const deployments = objects.filter((object) => object.kind === "Deployment");
  const byName = (name: string) => deployments.find((object) => object.metadata.name === name) as Json;

  it("has Redis, the API and the workers, each a Deployment, and their Services", () => {
    expect(deployments.map((object) => object.metadata.name).sort()).toEqual(["warren-api", "warren-redis", "warren-worker"]);
    expect(objects.filter((object) => object.kind === "Service").map((object) => object.metadata.name).sort()).toEqual(["warren-api", "warren-redis"]);
    expect(byName("warren-api").spec.template.spec.containers[0].args).toEqual(["serve", "--no-worker"]);
  });

  it("runs every container unprivileged: runAsNonRoot, allowPrivilegeEscalation false, capabilities dropped", () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec as Json;
      expect(pod.securityContext.runAsNonRoot, deployment.metadata.name).toBe(true);
      expect(pod.securityContext.runAsUser, deployment.metadata.name).toBe(10000);
      expect(pod.hostPID ?? false).toBe(false);
      expect(pod.hostNetwork ?? false).toBe(false);
      for (const container of [...pod.containers, ...(pod.initContainers ?? [])] as Json[]) {
        const context = container.securityContext as Json;
        expect(context.privileged ?? false, container.name).toBe(false);
        expect(context.allowPrivilegeEscalation, container.name).toBe(false);
        expect(context.capabilities, container.name).toEqual({ drop: ["ALL"] });
      }
    }
  });

  it("gives the workers a user-namespaced pod, procMount Unmasked, the Localhost profile and their cgroup directories", () => {
    const pod = byName("warren-worker").spec.template.spec as Json;
    expect(pod.hostUsers).toBe(false);
    expect(pod.securityContext.seccompProfile).toEqual({ type: "Localhost", localhostProfile: "profiles/warren.json" });
    const worker = pod.containers[0] as Json;
    expect(worker.securityContext.procMount).toBe("Unmasked");
    expect(worker.securityContext.appArmorProfile).toEqual({ type: "Unconfined" });
    const env = Object.fromEntries((worker.env as Json[]).map((variable) => [variable.name, variable.value]));
    expect(env.WARREN_CGROUP_ROOT).toBe("/$(POD_NAME)");
    expect(worker.command.join(" ")).toContain('mkdir -p "/sys/fs/cgroup/$c/$POD_NAME"');
    for (const controller of CONTROLLERS) {
      const mount = (worker.volumeMounts as Json[]).find((entry) => entry.mountPath === `/sys/fs/cgroup/${controller}`);
      expect(mount, controller).toBeDefined();
      expect(mount?.readOnly ?? false).toBe(false);
      const volume = (pod.volumes as Json[]).find((entry) => entry.name === mount?.name);
      expect(volume?.hostPath).toEqual({ path: `/sys/fs/cgroup/${controller}/warren`, type: "Directory" });
    }
  });

  it("keeps the sandbox settings off the API and Redis", () => {
    for (const name of ["warren-api", "warren-redis"]) {
      const pod = byName(name).spec.template.spec as Json;
      expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
      expect(pod.hostUsers).toBeUndefined();
      expect(pod.volumes.some((volume: Json) => volume.hostPath !== undefined)).toBe(false);
      expect(pod.containers[0].securityContext.procMount).toBeUndefined();
      expect(pod.containers[0].securityContext.appArmorProfile).toBeUndefined();
    }
  });
});

describe("docs/containers.md", () => {
  it("explains every setting the files use", () => {
    for (const setting of [
      "procMount: Unmasked", "hostUsers: false", "localhostProfile", "runAsNonRoot", "allowPrivilegeEscalation",
      "capabilities", "unmask=/proc/*", "systempaths=unconfined", "seccomp=", "--cap-drop=all", "WARREN_CGROUP_ROOT",
      "delegate-cgroups.sh", "/var/lib/kubelet/seccomp/profiles/warren.json", "ProcMountType", "UserNamespacesSupport",
      "--runtime runc", "npm run image:container", "npm run test:container", "apparmor=unconfined", "appArmorProfile",
      "--cgroup-parent=/", "--cgroupns=host", "native.cgroupdriver=cgroupfs",
    ]) expect(DOC, setting).toContain(setting);
  });
});

describe("deploy/delegate-cgroups.sh", () => {
  const script = path.join(ROOT, "deploy/delegate-cgroups.sh");
  const delegate = (...args: string[]) => spawnSync("bash", [script, ...args], { encoding: "utf8" });

  it("refuses, before touching anything, a NAME that is not one new directory or that systemd owns", () => {
    for (const name of ["..", ".", "a/b", "-x", ".hidden"]) {
      const run = delegate(name);
      expect({ name, status: run.status }).toEqual({ name, status: 2 });
      expect(run.stderr).toContain("NAME must be letters, digits");
    }
    for (const name of ["system.slice", "user.slice", "init.scope", "docker-1.scope", "warren.service"]) {
      const run = delegate(name);
      expect({ name, status: run.status }).toEqual({ name, status: 2 });
      expect(run.stderr).toContain("systemd unit's name");
    }
  });

  // Making cgroups in the host's hierarchies needs root (CI runs this suite as root)
  it.skipIf(process.getuid?.() !== 0)("never gives away a cgroup that holds another's cgroups, and changes no hierarchy then", () => {
    const driver = detectCgroupDriver();
    const name = `warren-foreign-${randomBytes(4).toString("hex")}`;
    // v2: the one hierarchy; v1: the pids hierarchy only (the script checks every hierarchy before changing any)
    const holders = driver.version === 2 ? ["/sys/fs/cgroup"] : driver.parents(`/${name}`).map((dir) => path.dirname(dir));
    const foreign = path.join(driver.version === 2 ? "/sys/fs/cgroup" : holders.find((dir) => dir.includes("pids"))!, name);
    fs.mkdirSync(path.join(foreign, "child"), { recursive: true });
    try {
      const run = delegate(name, "12345");
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`${foreign} already holds processes or cgroups of someone else's`);
      expect(fs.statSync(foreign).uid).toBe(0);
      for (const holder of holders) if (path.join(holder, name) !== foreign) expect(fs.existsSync(path.join(holder, name))).toBe(false);
    } finally {
      fs.rmdirSync(path.join(foreign, "child"));
      fs.rmdirSync(foreign);
    }
  });
});
