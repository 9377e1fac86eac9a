// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl modules`: the admin module's LIST_MODULES as a table.

#include "modules_command.hpp"

#include "admin_command.hpp"
#include "errors.hpp"

#include <drpc/message.hpp>

#include <string>
#include <vector>

namespace drpc::ctl {

namespace {

void print_modules(const FieldReader &listing, std::ostream &out)
{
	const std::vector<FieldReader> modules = listing.elements("modules");
	Table table;
	table.add({"ID", "NAME", "VERSION", "GEN", "STATE", "ISOLATION", "CALLS", "FAILS", "CRASHES", "RESTARTS",
	           "SINCE", "SOURCE"});
	for (const FieldReader &module : modules) {
		const std::string source = module.text("source_file");
		const std::string isolation = module.text("isolation"); // empty from a host that predates it
		table.add({format_module_id(module.int64("id")), module.text("name"), module.text("version"),
		           std::to_string(module.uint64("generation")), module.text("state"),
		           isolation.empty() ? "-" : isolation, std::to_string(module.uint64("calls_served")),
		           std::to_string(module.uint64("failures")), std::to_string(module.uint64("crashes")),
		           std::to_string(module.uint64("restarts")),
		           format_local_time(module.int64("loaded_since_unix_ms")), source.empty() ? "-" : source});
	}
	table.print(out);

	// Errors are long, so they go below the table, one line each.
	for (const FieldReader &module : modules) {
		const std::string who = format_module_id(module.int64("id")) + " (" + module.text("name") + ")";
		if (const std::string error = module.text("last_load_error"); !error.empty())
			out << "last error of " << who << ": " << error << '\n';
		if (const std::string cause = module.text("last_cause"); !cause.empty())
			out << "last worker exit of " << who << ": " << cause << '\n';
	}

	const std::vector<FieldReader> failures = listing.elements("failures");
	if (failures.empty())
		return;
	out << "\nrefused files:\n";
	Table refused;
	for (const FieldReader &failure : failures)
		refused.add({failure.text("source_file"), format_local_time(failure.int64("when_unix_ms")),
		             failure.text("error")});
	refused.print(out, "  ");
}

} // namespace

int run_modules(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	const AdminOptions options = parse_admin_options(args, global, "modules", {});
	if (options.help) {
		print_modules_help(out);
		return exit_ok;
	}
	constexpr std::string_view type = "admin.ListModulesResponse";
	const auto request = new_admin_message("admin.ListModulesRequest");
	const AdminAnswer answer = call_admin(global, options, "LIST_MODULES", *request, type);
	if (answer.status != Status::SUCCESS)
		return report_status("modules", answer.status);
	if (options.json)
		print_json(type, answer, out);
	else
		print_modules(FieldReader(*answer.message), out);
	return exit_ok;
}

void print_modules_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] modules [--json] [--timeout MS]\n"
	       "\n"
	       "Lists the host's modules, one row each: ID, NAME, VERSION, GEN (the load\n"
	       "generation: 1, then +1 per reload), STATE (serving; draining: unloaded or\n"
	       "replaced, calls still running; pinned: unloaded but kept mapped; builtin: the\n"
	       "host's own admin module), ISOLATION (in-process: mapped into the host;\n"
	       "process: in a worker process of its own), CALLS and FAILS (calls answered, and\n"
	       "those answered with a status other than SUCCESS), CRASHES and RESTARTS (of its\n"
	       "worker process), SINCE (local time of the load) and SOURCE (the file in the\n"
	       "plugins directory). Below: the last load error of a module whose newest reload\n"
	       "failed (the old build serves on), why its worker process last ended, and the\n"
	       "plugin files that were refused and serve nothing, with when and why.\n"
	       "\n"
	       "  --json          print the host's answer (admin.ListModulesResponse) as JSON\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Exit status: 0 listed, 1 the host answered another status, 2 usage error,\n"
	       "3 connection or protocol error.\n";
}

} // namespace drpc::ctl
