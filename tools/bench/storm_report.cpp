// SPDX-License-Identifier: Apache-2.0
// Formats a reload storm's result as a table and as JSON.
#include "storm_report.hpp"

#include <algorithm>
#include <cstdio>

namespace drpc::bench {
namespace {

std::string format(const char *pattern, double value)
{
	char text[64];
	std::snprintf(text, sizeof(text), pattern, value);
	return text;
}

std::string pad(std::string text, size_t width)
{
	if (text.size() < width)
		text.append(width - text.size(), ' ');
	return text;
}

std::string window_line(const char *name, double seconds, const LatencySummary &latency)
{
	return "  " + pad(name, 16) + pad(format("%.1f s", seconds), 9) +
	       pad(std::to_string(latency.count) + " calls", 16) + format("p50 %.1fus", latency.p50_us) +
	       format("  p99 %.1fus", latency.p99_us) + format("  p99.9 %.1fus", latency.p999_us) +
	       format("  max %.1fus", latency.max_us) + '\n';
}

nlohmann::json latency_json(const LatencySummary &latency, double scale)
{
	return {
		{"count", latency.count},        {"mean", latency.mean_us * scale},  {"p50", latency.p50_us * scale},
		{"p99", latency.p99_us * scale}, {"p99_9", latency.p999_us * scale}, {"max", latency.max_us * scale},
	};
}

nlohmann::json text_or_null(const std::string &text)
{
	return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

} // namespace

std::string format_storm(const StormResult &result)
{
	std::string text = window_line("steady state", result.steady_seconds, result.steady) +
	                   window_line("storm", result.storm_seconds, result.storm);
	text += "  " + pad("reload latency", 16) + format("p50 %.1f ms", result.reload.p50_us / 1000) +
	        format("  p99 %.1f ms", result.reload.p99_us / 1000) +
	        format("  max %.1f ms", result.reload.max_us / 1000) + " (rename to first answer from the new build; " +
	        "storm module generation " + std::to_string(result.final_generation) + ")\n";
	for (const StormCheck &check : storm_checks(result)) {
		text += "  " + pad(check.name, 36) + pad(check.value, 14) + pad("(target " + check.target + ")", 20) +
		        (check.pass ? "PASS" : "BELOW") + '\n';
	}
	text += "  (plugins directory, socket and runtime copies under " + result.scratch_base.string() + ")\n";
	if (!result.first_problem.empty())
		text += "  first problem: " + result.first_problem + '\n';
	if (result.mapped_copies.size() > 1) {
		for (const std::string &copy : result.mapped_copies)
			text += "  still mapped: " + copy + '\n';
	}
	if (!result.last_load_error.empty())
		text += "  last refused reload: " + result.last_load_error + '\n';
	if (!result.error.empty())
		text += "  storm stopped early: " + result.error + '\n';
	return text;
}

nlohmann::json storm_json(const StormResult &result)
{
	nlohmann::json checks = nlohmann::json::array();
	for (const StormCheck &check : storm_checks(result))
		checks.push_back(
			{{"name", check.name}, {"value", check.value}, {"target", check.target}, {"pass", check.pass}});
	return {
		{"scratch_base", result.scratch_base.string()},
		{"connections", result.connections},
		{"reloads_requested", result.reloads_requested},
		{"reloads_done", result.reloads_done},
		{"steady", {{"seconds", result.steady_seconds}, {"latency_us", latency_json(result.steady, 1)}}},
		{"storm", {{"seconds", result.storm_seconds}, {"latency_us", latency_json(result.storm, 1)}}},
		{"p99_ratio", result.p99_ratio},
		{"p99_ratio_target", storm_p99_ratio_target},
		{"reload_latency_ms", latency_json(result.reload, 1e-3)},
		{"calls_checked", result.answers.calls},
		{"failed_calls", result.answers.failed},
		{"foreign_answers", result.answers.foreign},
		{"first_problem", text_or_null(result.first_problem)},
		{"mapped_copies", result.mapped_copies},
		{"runtime_files", result.runtime_files},
		{"fds_before", result.fds_before},
		{"fds_after", result.fds_after},
		{"final_generation", result.final_generation},
		{"last_load_error", text_or_null(result.last_load_error)},
		{"error", text_or_null(result.error)},
		{"checks", checks},
		{"pass",
	         std::all_of(checks.begin(), checks.end(), [](const nlohmann::json &c) { return c["pass"] == true; })},
	};
}

} // namespace drpc::bench
