# Run in a sandbox by the cgroup v2 VM's runtime checks (docker-cgv2-inside.sh,
# podman-cgv2-inside.sh): what a sandbox sees of the cgroups. Expected: its own
# cgroup namespace's root, no /sys, and a cgroup2 mount of its own refused.
import ctypes, os
print("cgroup", open("/proc/self/cgroup").read().strip())
print("sys", os.path.exists("/sys"))
libc = ctypes.CDLL(None, use_errno=True)
os.makedirs("/tmp/cg", exist_ok=True)
print("mount", libc.mount(b"none", b"/tmp/cg", b"cgroup2", 0, None), os.strerror(ctypes.get_errno()))
