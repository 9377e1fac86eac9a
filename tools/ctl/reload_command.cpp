// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl reload ID`: the admin module's RELOAD.

#include "reload_command.hpp"

#include "admin_command.hpp"
#include "errors.hpp"

namespace drpc::ctl {

int run_reload(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	return run_module_id_command(args, global, out,
	                             {"reload", "RELOAD", "admin.ReloadRequest", "reloaded", &print_reload_help});
}

void print_reload_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] reload ID [--json] [--timeout MS]\n"
	       "\n"
	       "Asks the host to load the source file of plugin module ID again and swap the\n"
	       "new build in: calls that arrive after the swap go to it, calls in flight\n"
	       "finish on the old one. When the new build fails to load, the old one serves\n"
	       "on. Prints the module as it is afterwards:\n"
	       "  reloaded module 1000 (echo 1.0.0) from /usr/lib/drpc/plugins/echo.so, generation 2\n"
	       "\n"
	       "  ID              the module ID (decimal, or hex as 0x3e8)\n"
	       "  --json          print the host's answer (admin.ModuleOpResponse) as JSON\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Only root and the user the host runs as may reload. Exit status: 0 done,\n"
	       "1 the host refused or failed (its reason on stderr), 2 usage error,\n"
	       "3 connection or protocol error.\n";
}

} // namespace drpc::ctl
