"""xnoded --check-config: exit 0 for a valid setup, 1 with file:line:col errors for a bad one."""
import os
import subprocess

from _harness import Check, Env, XNODED, require_programs

require_programs(XNODED)
check = Check()
env = Env("check-config")
path = env.write_config(8443)

r = subprocess.run([XNODED, "--check-config", path], capture_output=True, text=True)
check(r.returncode == 0, "the test configuration is valid: " + (r.stdout + r.stderr).strip())

# A bad value: the error names file:line:col, the key and the rule.
with open(path, encoding="utf-8") as f:
    text = f.read()
bad = text.replace("max_bytes: 64MiB", "max_bytes: 1MiB")
bad_path = os.path.join(env.dir, "bad.yaml")
with open(bad_path, "w", encoding="utf-8") as f:
    f.write(bad)
r = subprocess.run([XNODED, "--check-config", bad_path], capture_output=True, text=True)
check(r.returncode == 1, "a queue below 16MiB is refused (exit 1)")
check("queue.max_bytes" in r.stderr and "bad.yaml:" in r.stderr and "16MiB" in r.stderr,
      "the error names file, key and rule: " + r.stderr.strip().splitlines()[0])

# A source feeding a resource that is not in the catalog.
bad2 = text.replace('resource: "', 'resource: "101003/11540100MB00000081-99999" #"')
with open(bad_path, "w", encoding="utf-8") as f:
    f.write(bad2)
r = subprocess.run([XNODED, "--check-config", bad_path], capture_output=True, text=True)
check(r.returncode == 1 and "not a resource of the catalog slice" in r.stderr,
      "a source feeding an unknown resource is refused: " + r.stderr.strip()[:200])

# A key file readable by others is refused.
os.chmod(os.path.join(env.pki, "node.key"), 0o644)
r = subprocess.run([XNODED, "--check-config", path], capture_output=True, text=True)
check(r.returncode == 1 and "node.key" in r.stderr, "a key file readable by others is refused: " + r.stderr.strip()[:200])
os.chmod(os.path.join(env.pki, "node.key"), 0o600)

# The shipped example configuration parses (its files live in /etc/xnode, so only the schema is checked
# here by the unit tests); a missing file is a clear error.
r = subprocess.run([XNODED, "--check-config", os.path.join(env.dir, "missing.yaml")], capture_output=True, text=True)
check(r.returncode == 1 and "missing.yaml" in r.stderr, "a missing file is a clear error")
check.finish()
