"""The systemd unit (issue #6): `systemd-analyze verify` prints no warning and
`systemd-analyze security --offline=true` reports an exposure of 1.5 or less."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from _harness import BUILD, ROOT, XNODED, Check, require_programs

require_programs(XNODED)
if not shutil.which("systemd-analyze"):
    print("systemd-analyze not installed (scripts/setup installs systemd)")
    sys.exit(77)
check = Check()
unit = os.path.join(ROOT, "systemd", "xnode.service")
work = tempfile.mkdtemp(prefix="xnode-unit-")
try:
    # verify checks that ExecStart= programs exist: point them at the freshly built binary.
    with open(unit, encoding="utf-8") as f:
        text = f.read()
    copy = os.path.join(work, "xnode.service")
    with open(copy, "w", encoding="utf-8") as f:
        f.write(text.replace("/usr/bin/xnoded", XNODED))
    r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == 0 and out == "", "systemd-analyze verify prints nothing: %r" % out)

    r = subprocess.run(["systemd-analyze", "security", "--offline=true", unit], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for xnode.service: ([0-9.]+)", r.stdout + r.stderr)
    check(m is not None, "security analysis ran")
    if m:
        check(float(m.group(1)) <= 1.5, "exposure %s <= 1.5" % m.group(1))
    for key in ("Type=notify", "WatchdogSec=", "ExecReload=", "StateDirectory=xnode", "ConfigurationDirectory=xnode",
                "User=xnode"):
        check(key in text, "the unit sets " + key)
finally:
    shutil.rmtree(work, ignore_errors=True)
check.finish()
