// SPDX-License-Identifier: Apache-2.0
// Formats case results as text lines and JSON.
#include "report.hpp"

#include <cstdio>

namespace drpc::bench {
namespace {

std::string format(const char *pattern, double value)
{
	char text[64];
	std::snprintf(text, sizeof(text), pattern, value);
	return text;
}

std::string side_text(const SideResult &side, bool bulk)
{
	std::string text = format("%.0f calls/s", side.calls_per_second);
	if (bulk)
		text += format(" %.0f MB/s", side.bytes_per_second / 1e6);
	text += format(" p50 %.1fus", side.latency.p50_us) + format(" p99 %.1fus", side.latency.p99_us) +
	        format(" p99.9 %.1fus", side.latency.p999_us) + format(" cpu %.1fus/call", side.cpu_us_per_call) +
	        format(" %.1f cs/call", side.switches_per_call);
	if (side.idle_share && side.steal_share)
		text += format(" machine idle %.0f%%", 100 * *side.idle_share) +
		        format(" steal %.0f%%", 100 * *side.steal_share);
	return text;
}

std::string target_text(const CaseResult &result)
{
	switch (result.target.kind) {
	case Target::Kind::ratio:
		return format("(target >= %.2f) ", result.target.threshold) + (result.pass ? "PASS" : "BELOW");
	case Target::Kind::throughput:
		return format("(target >= %.0f MB/s each way) ", result.target.threshold / 1e6) +
		       (result.pass ? "PASS" : "BELOW");
	case Target::Kind::none:
		break;
	}
	return "(no target)";
}

nlohmann::json side_json(const SideResult &side)
{
	return {
		{"calls", side.latency.count},
		{"seconds", side.seconds},
		{"calls_per_second", side.calls_per_second},
		{"bytes_per_second_each_way", side.bytes_per_second},
		{"cpu_us_per_call", side.cpu_us_per_call},
		{"context_switches_per_call", side.switches_per_call},
		{"machine_idle_share", side.idle_share ? nlohmann::json(*side.idle_share) : nlohmann::json()},
		{"machine_steal_share", side.steal_share ? nlohmann::json(*side.steal_share) : nlohmann::json()},
		{"latency_us",
	         {{"mean", side.latency.mean_us},
	          {"p50", side.latency.p50_us},
	          {"p99", side.latency.p99_us},
	          {"p99_9", side.latency.p999_us},
	          {"max", side.latency.max_us}}},
	};
}

} // namespace

std::string size_text(size_t bytes)
{
	if (bytes >= (size_t{1} << 20) && bytes % (size_t{1} << 20) == 0)
		return std::to_string(bytes >> 20) + " MiB";
	if (bytes >= 1024 && bytes % 1024 == 0)
		return std::to_string(bytes >> 10) + " KiB";
	return std::to_string(bytes) + " B";
}

std::string format_case(const std::string &label, const CaseResult &result)
{
	const bool bulk = result.records > 1;
	return label + " " + size_text(result.spec.payload_bytes) + " x " + std::to_string(result.spec.connections) +
	       " conn: " + result.measured + " " + side_text(result.drpc, bulk) + " | floor " +
	       side_text(result.floor, bulk) + format(" | ratio %.2f ", result.ratio) + target_text(result);
}

nlohmann::json case_json(const std::string &label, const CaseResult &result)
{
	nlohmann::json target = nullptr;
	if (result.target.kind == Target::Kind::ratio)
		target = {{"kind", "ratio"}, {"at_least", result.target.threshold}};
	else if (result.target.kind == Target::Kind::throughput)
		target = {{"kind", "bytes_per_second_each_way"}, {"at_least", result.target.threshold}};
	return {
		{"call", label},
		{"payload_bytes", result.spec.payload_bytes},
		{"call_bytes", result.call_bytes},
		{"records_per_message", result.records},
		{"connections", result.spec.connections},
		{"measured", result.measured}, // what "drpc" holds: "drpc", or "relay"
		{"drpc", side_json(result.drpc)},
		{"floor", side_json(result.floor)},
		{"ratio", result.ratio},
		{"target", target},
		{"pass", result.pass},
	};
}

} // namespace drpc::bench
