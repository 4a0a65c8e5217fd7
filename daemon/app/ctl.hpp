// xnodectl: the operator's view of a node. Reads the daemon's status file and opens the queue and
// audit databases READ-ONLY (safe while xnoded runs; WAL readers never block the writer).
#pragma once

namespace xnode::app {

int ctl_main(int argc, char** argv);

}  // namespace xnode::app
