// xnodectl: the operator's view of a node. Reads the daemon's status file and opens the queue and
// audit databases READ-ONLY (safe while xnoded runs; WAL readers never block the writer). The
// commands that change the node (quarantine retry|purge) go to the daemon over its control socket;
// every command is audited with the caller's uid (by the daemon, or by xnodectl into the same chain
// when the daemon does not run).
#pragma once

namespace xnode::app {

int ctl_main(int argc, char** argv);

}  // namespace xnode::app
