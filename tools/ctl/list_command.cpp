// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl list`: DESCRIBE of every module, one line per module and one per method.

#include "list_command.hpp"

#include "admin_command.hpp"
#include "errors.hpp"
#include "host_description.hpp"

namespace drpc::ctl {

int run_list(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	const AdminOptions options = parse_admin_options(args, global, "list", {});
	if (options.help) {
		print_list_help(out);
		return exit_ok;
	}
	const HostDescription description = fetch_description(global, options.timeout, {});
	if (description.status != Status::SUCCESS)
		return report_status("list", description.status);
	if (options.json) {
		print_json("admin.DescribeResponse", description.answer, out);
		return exit_ok;
	}
	for (const DescribedModule &module : description.modules) {
		out << format_module_id(module.id) << "  " << module.name << ' ' << module.version;
		if (!module.described) {
			out << "  (does not describe itself: call it by number)\n";
			continue;
		}
		out << '\n';
		Table methods;
		for (const DescribedMethod &method : module.methods)
			methods.add({module.name + "." + method.name, std::to_string(method.method),
			             method.request_type + " -> " + method.response_type});
		methods.print(out, "  ");
	}
	return exit_ok;
}

void print_list_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] list [--json] [--timeout MS]\n"
	       "\n"
	       "Lists the host's serving modules (ID, name, version) and under each the methods\n"
	       "it describes: the name to call it by (MODULE.METHOD, as 'drpc-ctl call' takes\n"
	       "it), the method number, and its request and response message types. A module\n"
	       "that does not describe itself says so; call it with --module and --method.\n"
	       "\n"
	       "  --json          print the host's answer (admin.DescribeResponse) as JSON\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Exit status: 0 listed, 1 the host answered another status, 2 usage error,\n"
	       "3 connection or protocol error.\n";
}

} // namespace drpc::ctl
