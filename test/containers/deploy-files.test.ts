// deploy/compose.yaml and deploy/kubernetes/*/: they parse, every
// container is unprivileged (no privileged, every capability dropped, no
// privilege escalation, a non-root uid or, on cgroup v2, the root of a user
// namespace with CAP_SETFCAP alone), the workers carry exactly the three
// things Warren needs in a container (an unmasked /proc, deploy/warren.json,
// their own cgroup: delegated directories on v1, the container's own on v2),
// and docs/containers.md explains each setting. No cluster or compose tool runs here: test/containers/run-containers.sh
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

const KUBERNETES = path.join(ROOT, "deploy/kubernetes");

/** The objects of the Kubernetes file FILE (under deploy/kubernetes), each document parsed without an error. */
function kubernetes(file: string): Json[] {
  return parseAllDocuments(fs.readFileSync(path.join(KUBERNETES, file), "utf8")).map((document) => {
    expect(document.errors, file).toEqual([]);
    return document.toJS() as Json;
  });
}

/** The files a kustomization directory DIR applies, its resources followed (directories through their own kustomization.yaml). */
function kustomized(dir: string): string[] {
  const kustomization = parse(fs.readFileSync(path.join(KUBERNETES, dir, "kustomization.yaml"), "utf8")) as Json;
  expect(kustomization.kind, dir).toBe("Kustomization");
  return (kustomization.resources as string[]).flatMap((resource) => {
    const target = path.join(dir, resource);
    return fs.statSync(path.join(KUBERNETES, target)).isDirectory() ? kustomized(target) : [target];
  });
}

/** Every container of DEPLOYMENT unprivileged: no privileged, no privilege escalation, every capability dropped but ALLOWED. */
function expectUnprivileged(deployment: Json, allowed: string[] = []): void {
  const pod = deployment.spec.template.spec as Json;
  expect(pod.hostPID ?? false, deployment.metadata.name).toBe(false);
  expect(pod.hostNetwork ?? false, deployment.metadata.name).toBe(false);
  expect(pod.hostIPC ?? false, deployment.metadata.name).toBe(false);
  for (const container of [...pod.containers, ...(pod.initContainers ?? [])] as Json[]) {
    const context = container.securityContext as Json;
    expect(context.privileged ?? false, container.name).toBe(false);
    expect(context.allowPrivilegeEscalation, container.name).toBe(false);
    expect(context.capabilities, container.name).toEqual(allowed.length === 0 ? { drop: ["ALL"] } : { drop: ["ALL"], add: allowed });
  }
}

/** What a worker needs on any node: a user-namespaced pod, procMount Unmasked, the Localhost profile, AppArmor unconfined. */
function expectSandboxSettings(pod: Json): Json {
  expect(pod.hostUsers).toBe(false);
  expect(pod.securityContext.seccompProfile).toEqual({ type: "Localhost", localhostProfile: "profiles/warren.json" });
  const worker = pod.containers[0] as Json;
  expect(worker.securityContext.procMount).toBe("Unmasked");
  expect(worker.securityContext.appArmorProfile).toEqual({ type: "Unconfined" });
  return worker;
}

describe("deploy/kubernetes: a kustomization per kind of node", () => {
  it("applies the base and that kind's worker, and nothing at the top level that `kubectl apply -f deploy/kubernetes` would take", () => {
    expect(kustomized("cgroup-v1")).toEqual(["base/warren.yaml", "cgroup-v1/worker.yaml"]);
    expect(kustomized("cgroup-v2")).toEqual(["base/warren.yaml", "cgroup-v2/worker.yaml"]);
    expect(fs.readdirSync(KUBERNETES).filter((name) => /\.(ya?ml|json)$/.test(name))).toEqual([]);
  });
});

describe("deploy/kubernetes/base/warren.yaml", () => {
  const objects = kubernetes("base/warren.yaml");
  const deployments = objects.filter((object) => object.kind === "Deployment");
  const byName = (name: string) => deployments.find((object) => object.metadata.name === name) as Json;

  it("has Redis and the API, each a Deployment, and their Services; the workers are in a file per kind of node", () => {
    expect(deployments.map((object) => object.metadata.name).sort()).toEqual(["warren-api", "warren-redis"]);
    expect(objects.filter((object) => object.kind === "Service").map((object) => object.metadata.name).sort()).toEqual(["warren-api", "warren-redis"]);
    expect(byName("warren-api").spec.template.spec.containers[0].args).toEqual(["serve", "--no-worker"]);
  });

  it("runs Redis and the API at the restricted level's settings: a non-root uid, nothing else", () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec as Json;
      expect(pod.securityContext.runAsNonRoot, deployment.metadata.name).toBe(true);
      expect(pod.securityContext.runAsUser, deployment.metadata.name).toBe(10000);
      expect(pod.securityContext.seccompProfile).toEqual({ type: "RuntimeDefault" });
      expect(pod.hostUsers).toBeUndefined();
      expect(pod.volumes.some((volume: Json) => volume.hostPath !== undefined)).toBe(false);
      expect(pod.containers[0].securityContext.procMount).toBeUndefined();
      expect(pod.containers[0].securityContext.appArmorProfile).toBeUndefined();
      expectUnprivileged(deployment);
    }
  });
});

describe("deploy/kubernetes/cgroup-v1/worker.yaml", () => {
  const [worker, ...others] = kubernetes("cgroup-v1/worker.yaml");

  it("is the workers' Deployment in Warren's namespace, unprivileged, as a non-root uid", () => {
    expect(others).toEqual([]);
    expect([worker?.kind, worker?.metadata.name, worker?.metadata.namespace]).toEqual(["Deployment", "warren-worker", "warren"]);
    expect(worker?.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(worker?.spec.template.spec.securityContext.runAsUser).toBe(10000);
    expectUnprivileged(worker!);
  });

  it("gives the workers a user-namespaced pod, procMount Unmasked, the Localhost profile and their cgroup directories", () => {
    const pod = worker!.spec.template.spec as Json;
    const container = expectSandboxSettings(pod);
    const env = Object.fromEntries((container.env as Json[]).map((variable) => [variable.name, variable.value]));
    expect(env.WARREN_CGROUP_ROOT).toBe("/$(POD_NAME)");
    expect(container.command.join(" ")).toContain('mkdir -p "/sys/fs/cgroup/$c/$POD_NAME"');
    for (const controller of CONTROLLERS) {
      const mount = (container.volumeMounts as Json[]).find((entry) => entry.mountPath === `/sys/fs/cgroup/${controller}`);
      expect(mount, controller).toBeDefined();
      expect(mount?.readOnly ?? false).toBe(false);
      const volume = (pod.volumes as Json[]).find((entry) => entry.name === mount?.name);
      expect(volume?.hostPath).toEqual({ path: `/sys/fs/cgroup/${controller}/warren`, type: "Directory" });
    }
  });
});

describe("deploy/kubernetes/cgroup-v2/worker.yaml", () => {
  const objects = kubernetes("cgroup-v2/worker.yaml");
  const runtimeClass = objects.find((object) => object.kind === "RuntimeClass") as Json;
  const worker = objects.find((object) => object.kind === "Deployment") as Json;
  const pod = worker.spec.template.spec as Json;

  it("is the workers' Deployment, of the same name as v1's, and the runtime class it names", () => {
    expect(objects).toHaveLength(2);
    expect([worker.metadata.name, worker.metadata.namespace]).toEqual(["warren-worker", "warren"]);
    expect(pod.runtimeClassName).toBe(runtimeClass.metadata.name);
    expect(runtimeClass.handler).toBe("warren");
  });

  it("runs Warren as the root of the pod's user namespace with CAP_SETFCAP alone, nothing privileged", () => {
    expect(pod.hostUsers).toBe(false); // never the node's root
    expect(pod.securityContext.runAsUser).toBe(0);
    expectUnprivileged(worker, ["SETFCAP"]);
  });

  it("takes over the container's own cgroup: no hostPath, no WARREN_CGROUP_ROOT, the cgroup made writable, the worker bounded", () => {
    const container = expectSandboxSettings(pod);
    expect(pod.volumes.some((volume: Json) => volume.hostPath !== undefined)).toBe(false);
    const env = Object.fromEntries((container.env as Json[]).map((variable) => [variable.name, variable.value]));
    expect(env.WARREN_CGROUP_ROOT).toBeUndefined();
    expect(env.WARREN_DATA_DIR).toBe("/data");
    expect((container.volumeMounts as Json[]).map((mount) => mount.mountPath)).toContain("/data");
    expect(worker.spec.template.metadata.annotations["io.kubernetes.cri-o.cgroup2-mount-hierarchy-rw"]).toBe("true");
    expect(container.resources.limits.memory).toMatch(/^\d+Gi$/);
    expect(container.args).toEqual(["worker"]);
  });

  it("says how to make the runtime handler, for containerd and CRI-O", () => {
    const text = fs.readFileSync(path.join(KUBERNETES, "cgroup-v2/worker.yaml"), "utf8");
    for (const setting of ["cgroup_writable = true", "SystemdCgroup = true", "[crio.runtime.runtimes.warren]", "allowed_annotations"]) {
      expect(text, setting).toContain(setting);
      expect(DOC, setting).toContain(setting);
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
  it.skipIf(process.getuid?.() !== 0)("never gives away a cgroup that holds another's cgroups, and changes no hierarchy then (needs root: it makes cgroups in the host's hierarchies)", () => {
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
