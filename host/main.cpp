// SPDX-License-Identifier: Apache-2.0
// drpc-host: serves dRPC calls with modules loaded from plugins.
#include "app.hpp"

int main(int argc, char **argv) { return drpc::host::run_host(argc, argv); }
