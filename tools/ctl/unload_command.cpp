// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl unload ID`: the admin module's UNLOAD.

#include "unload_command.hpp"

#include "admin_command.hpp"
#include "errors.hpp"

namespace drpc::ctl {

int run_unload(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	return run_module_id_command(args, global, out,
	                             {"unload", "UNLOAD", "admin.UnloadRequest", "unloaded", &print_unload_help});
}

void print_unload_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] unload ID [--json] [--timeout MS]\n"
	       "\n"
	       "Asks the host to unload plugin module ID, once the calls running on it have\n"
	       "returned. The host's own modules (0x7fff0000 and up) cannot be unloaded. Prints\n"
	       "the module as it was:\n"
	       "  unloaded module 1000 (echo 1.0.0) from /usr/lib/drpc/plugins/echo.so, generation 1\n"
	       "\n"
	       "  ID              the module ID (decimal, or hex as 0x3e8)\n"
	       "  --json          print the host's answer (admin.ModuleOpResponse) as JSON\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Only root and the user the host runs as may unload. Exit status: 0 done,\n"
	       "1 the host refused or failed (its reason on stderr), 2 usage error,\n"
	       "3 connection or protocol error.\n";
}

} // namespace drpc::ctl
