// xnodectl — the operator's CLI for a node (see `xnodectl --help`).
#include "app/ctl.hpp"

int main(int argc, char** argv) { return xnode::app::ctl_main(argc, argv); }
