// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl load FILE`: the admin module's LOAD.

#include "load_command.hpp"

#include "admin_command.hpp"
#include "errors.hpp"

#include <filesystem>
#include <string>

namespace drpc::ctl {

namespace {

/// A bare file name goes as it is (the host looks in its plugins
/// directory); a path is made absolute here, since the host does not share
/// drpc-ctl's working directory.
std::string host_path(const std::string &file)
{
	if (file.find('/') == std::string::npos)
		return file;
	return std::filesystem::absolute(file).lexically_normal().string();
}

} // namespace

int run_load(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	const AdminOptions options = parse_admin_options(args, global, "load", {"FILE"});
	if (options.help) {
		print_load_help(out);
		return exit_ok;
	}
	if (options.arguments[0].empty())
		throw UsageError("load: FILE is empty");
	const auto request = new_admin_message("admin.LoadRequest");
	set_text(*request, "path", host_path(options.arguments[0]));
	return run_module_operation(global, options, "load", "LOAD", *request, "loaded", out);
}

void print_load_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] load FILE [--json] [--timeout MS]\n"
	       "\n"
	       "Asks the host to load a plugin file of its plugins directory; a file that\n"
	       "already serves a module is reloaded. FILE is a file name in the plugins\n"
	       "directory (echo.so) or a path to a file directly in it. Prints the module\n"
	       "as it is afterwards:\n"
	       "  loaded module 1000 (echo 1.0.0) from /usr/lib/drpc/plugins/echo.so, generation 1\n"
	       "\n"
	       "  --json          print the host's answer (admin.ModuleOpResponse) as JSON\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Only root and the user the host runs as may load. Exit status: 0 loaded,\n"
	       "1 the host refused or failed (its reason on stderr), 2 usage error,\n"
	       "3 connection or protocol error.\n";
}

} // namespace drpc::ctl
