// SPDX-License-Identifier: Apache-2.0
// `drpc-ctl stats`: the admin module's STATS.

#include "stats_command.hpp"

#include "admin_command.hpp"
#include "errors.hpp"

#include <drpc/message.hpp>

#include <string>
#include <string_view>
#include <utility>

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
	const auto number = [&stats](std::string_view field) { return std::to_string(stats.uint64(field)); };
	Table table;
	table.add({"sessions open", number("sessions_open")});
	table.add({"sessions total", number("sessions_total")});
	table.add({"sessions parked", number("sessions_parked")});
	table.add({"calls served", number("calls_served")});
	table.add({"in-flight bytes", number("inflight_bytes") + " (peak " + number("inflight_peak_bytes") + ")"});
	table.add({"uptime", format_duration(stats.uint64("uptime_ms"))});
	table.add({"plugin modules", number("modules_loaded")});
	table.add({"sessions refused", number("sessions_refused")});
	// Per limit, named as its config key.
	constexpr std::pair<std::string_view, std::string_view> by_limit[] = {
		{"refused: session limits", "refused_session_limit"},
		{"refused: no descriptor", "refused_no_descriptor"},
		{"refused: no thread", "refused_no_thread"},
		{"closed: in-flight budget", "closed_over_budget"},
		{"closed: message_timeout_ms", "closed_message_timeout"},
		{"closed: idle_timeout_ms", "closed_idle_timeout"},
		{"closed: send_timeout_ms", "closed_send_timeout"},
		{"closed: framing error", "closed_framing_error"},
	};
	for (const auto &[label, field] : by_limit)
		table.add({std::string(label), number(field)});
	table.print(out);
	return exit_ok;
}

void print_stats_help(std::ostream &out)
{
	out << "usage: drpc-ctl [--socket PATH] stats [--json] [--timeout MS]\n"
	       "\n"
	       "Prints the host's counters: the client sessions open now, since the start and\n"
	       "parked (waiting without a thread), the calls served (to every module), the bytes\n"
	       "held by messages in flight (now and at most), the uptime, the plugin modules\n"
	       "serving (the admin module not counted), and the sessions refused or closed by\n"
	       "each limit (see config limits.*).\n"
	       "\n"
	       "  --json          print the host's answer (admin.StatsResponse) as JSON\n"
	       "  --timeout MS    give up after MS milliseconds (default 30000; 0: wait forever)\n"
	       "  --socket PATH   as the global option\n"
	       "\n"
	       "Exit status: 0 printed, 1 the host answered another status, 2 usage error,\n"
	       "3 connection or protocol error.\n";
}

} // namespace drpc::ctl
