// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl stats`: the admin module's STATS.

#include "stats_command.hpp"

#include "admin_command.hpp"
#include "errors.hpp"

#include <drpc/message.hpp>

#include <string>

namespace drpc::ctl {

int run_stats(ArgCursor &args, GlobalOptions &global, std::ostream &out)
{
	const AdminOptions options = parse_admin_options(args, global, "stats", {});
	if (options.help) {
		print_stats_help(out);
		return exit_ok;
	}
	constexpr std::string_view type = "admin.StatsResponse";
	const auto request = new_admin_message("admin.StatsRequest");
	const AdminAnswer answer = call_admin(global, options, "STATS", *request, type);
	if (answer.status != Status::SUCCESS)
		return report_status("stats", answer.status);
	if (options.json) {
		print_json(type, answer, out);
		return exit_ok;
	}
	const FieldReader stats(*answer.message);
	Table table;
	table.add({"sessions open", std::to_string(stats.uint64("sessions_open"))});
	table.add({"sessions total", std::to_string(stats.uint64("sessions_total"))});
	table.add({"calls served", std::to_string(stats.uint64("calls_served"))});
	table.add({"uptime", format_duration(stats.uint64("uptime_ms"))});
	table.add({"plugin modules", std::to_string(stats.uint64("modules_loaded"))});
	table.print(out);
	return exit_ok;
}

void print_stats_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] stats [--json] [--timeout MS]\n"
	       "\n"
	       "Prints the host's counters: the client sessions open now and since the start,\n"
	       "the calls served (to every module), the uptime, and the plugin modules serving\n"
	       "(the admin module not counted).\n"
	       "\n"
	       "  --json          print the host's answer (admin.StatsResponse) as JSON\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Exit status: 0 printed, 1 the host answered another status, 2 usage error,\n"
	       "3 connection or protocol error.\n";
}

} // namespace drpc::ctl
