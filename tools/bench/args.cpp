// SPDX-License-Identifier: Apache-2.0
// Parsing drpc-bench's options, with errors that name the option and value.
#include "args.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace drpc::bench {
namespace {

/// Calls larger than this would pass the server's default 64 MiB limit once
/// framed; the bench is not the place to raise it.
constexpr size_t max_payload_bytes = size_t{32} << 20;
constexpr unsigned max_connections = 256;
constexpr unsigned max_reloads = 100'000;

[[noreturn]] void bad(std::string_view option, std::string_view value, std::string_view why)
{
	throw std::invalid_argument(std::string(option) + " \"" + std::string(value) + "\": " + std::string(why));
}

template <typename T> T parse_integer(std::string_view option, std::string_view text, T min, T max)
{
	T value{};
	const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (error != std::errc() || end != text.data() + text.size())
		bad(option, text, "not an integer");
	if (value < min || value > max)
		bad(option, text, "out of range " + std::to_string(min) + ".." + std::to_string(max));
	return value;
}

double parse_seconds(std::string_view option, std::string_view text)
{
	// std::from_chars for double is missing from older libstdc++; stod needs a copy anyway.
	const std::string copy(text);
	size_t used = 0;
	double value = 0;
	try {
		value = std::stod(copy, &used);
	} catch (const std::exception &) {
		bad(option, text, "not a number of seconds");
	}
	if (used != copy.size() || !std::isfinite(value) || value < 0 || value > 3600)
		bad(option, text, "not a number of seconds in 0..3600");
	return value;
}

std::vector<std::string_view> split_list(std::string_view text)
{
	std::vector<std::string_view> items;
	for (size_t start = 0;;) {
		const size_t comma = text.find(',', start);
		items.push_back(text.substr(start, comma - start));
		if (comma == std::string_view::npos)
			return items;
		start = comma + 1;
	}
}

/// Checks the storm's options and moves the shared ones (--connections,
/// --seconds) into options.storm.
void finish_storm(Options &options, const std::vector<std::string_view> &given,
                  const std::vector<unsigned> &connections)
{
	for (const std::string_view option : given) {
		if (!options.storm.enabled && (option == "--reloads" || option == "--storm-plugins"))
			throw std::invalid_argument(std::string(option) + " needs --reload-storm");
		if (options.storm.enabled &&
		    (option == "--payload" || option == "--calls" || option == "--rounds" || option == "--socket" ||
		     option == "--module" || option == "--method" || option == "--raw"))
			throw std::invalid_argument(std::string(option) +
			                            " does not apply to --reload-storm (it calls module "
			                            "4300 of its own in-process drpc-host)");
	}
	if (!options.storm.enabled)
		return;
	if (connections.size() > 1)
		throw std::invalid_argument("--connections: --reload-storm takes one connection count");
	if (!connections.empty())
		options.storm.connections = connections.front();
}

} // namespace

size_t parse_size(std::string_view text)
{
	size_t digits = 0;
	while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
		++digits;
	if (digits == 0)
		bad("--payload", text, "expected a number of bytes, e.g. 64, 4KiB, 1MiB");
	const auto number = parse_integer<uint64_t>("--payload", text.substr(0, digits), 0, max_payload_bytes);
	const std::string_view suffix = text.substr(digits);
	uint64_t unit;
	if (suffix.empty() || suffix == "B" || suffix == "b")
		unit = 1;
	else if (suffix == "k" || suffix == "K" || suffix == "KiB" || suffix == "KB" || suffix == "kB")
		unit = 1024;
	else if (suffix == "M" || suffix == "MiB" || suffix == "MB")
		unit = 1024 * 1024;
	else
		bad("--payload", text, "unknown suffix \"" + std::string(suffix) + "\" (B, K/KiB, M/MiB)");
	if (number * unit > max_payload_bytes)
		bad("--payload", text, "over the bench's maximum of 32 MiB");
	return number * unit;
}

Options parse_args(const std::vector<std::string_view> &args)
{
	Options options;
	std::vector<size_t> payloads;
	std::vector<unsigned> connections;
	std::vector<std::string_view> given;
	bool seconds_given = false;
	for (size_t i = 0; i < args.size(); ++i) {
		const std::string_view option = args[i];
		given.push_back(option);
		const auto value = [&]() -> std::string_view {
			if (i + 1 >= args.size())
				throw std::invalid_argument(std::string(option) + ": missing value");
			return args[++i];
		};
		if (option == "--help" || option == "-h") {
			options.help = true;
		} else if (option == "--json") {
			options.json = true;
		} else if (option == "--raw") {
			options.raw = true;
		} else if (option == "--payload") {
			for (const std::string_view item : split_list(value()))
				payloads.push_back(parse_size(item));
		} else if (option == "--connections") {
			for (const std::string_view item : split_list(value()))
				connections.push_back(parse_integer<unsigned>(option, item, 1, max_connections));
		} else if (option == "--seconds") {
			options.seconds = std::chrono::duration<double>(parse_seconds(option, value()));
			seconds_given = true;
			if (options.seconds.count() == 0)
				bad(option, args[i], "must be more than 0");
		} else if (option == "--calls") {
			options.calls = parse_integer<uint64_t>(option, value(), 1, 100'000'000);
		} else if (option == "--warmup") {
			options.warmup = std::chrono::duration<double>(parse_seconds(option, value()));
		} else if (option == "--rounds") {
			options.rounds = parse_integer<unsigned>(option, value(), 1, 100);
		} else if (option == "--socket") {
			options.socket = std::filesystem::path(value());
		} else if (option == "--module") {
			options.module = parse_integer<int32_t>(option, value(), INT32_MIN, INT32_MAX);
		} else if (option == "--method") {
			options.method = parse_integer<int32_t>(option, value(), INT32_MIN, INT32_MAX);
		} else if (option == "--sessions") {
			options.sessions = parse_integer<size_t>(option, value(), 1, 1'000'000);
		} else if (option == "--flood") {
			options.flood = true;
		} else if (option == "--flood-connections") {
			options.flood_connections = parse_integer<unsigned>(option, value(), 1, 10'000);
		} else if (option == "--isolation") {
			options.isolation = true;
		} else if (option == "--reload-storm") {
			options.storm.enabled = true;
		} else if (option == "--reloads") {
			options.storm.reloads = parse_integer<unsigned>(option, value(), 1, max_reloads);
		} else if (option == "--storm-plugins") {
			options.storm.plugin_dir = std::filesystem::path(value());
		} else if (option == "--plugin") {
			throw std::invalid_argument("--plugin is not supported yet: run drpc-host with the plugin and "
			                            "measure it with --socket");
		} else {
			throw std::invalid_argument("unknown option \"" + std::string(option) + "\" (see --help)");
		}
	}
	if (seconds_given && options.calls != 0)
		throw std::invalid_argument("--seconds and --calls exclude each other");
	if ((options.sessions != 0) + options.flood + options.storm.enabled + options.isolation > 1)
		throw std::invalid_argument(
			"--sessions, --flood, --reload-storm and --isolation are separate runs: give one");
	if ((options.sessions != 0 || options.flood) && options.json)
		throw std::invalid_argument("--json is not offered with --sessions or --flood (their report is text)");
	if (options.sessions != 0 || options.flood)
		return options;
	finish_storm(options, given, connections);
	if (options.storm.enabled) {
		if (seconds_given)
			options.storm.steady = options.seconds;
		return options;
	}
	if (!options.socket && (options.module != 0 || (options.method != 0 && options.method != 1)))
		throw std::invalid_argument("--module and --method need --socket: the built-in server has only "
		                            "module 0, methods 0 and 1");

	if (payloads.empty() && connections.empty()) {
		// The project's targets: small calls over 1 and 8 connections, and bulk.
		options.cases = {{64, 1}, {64, 8}, {size_t{1} << 20, 1}};
		return options;
	}
	if (payloads.empty())
		payloads = {64};
	if (connections.empty())
		connections = {1, 8};
	for (const size_t payload : payloads)
		for (const unsigned count : connections)
			options.cases.push_back({payload, count});
	return options;
}

std::string usage()
{
	return "usage: drpc-bench [options]\n"
	       "Measures dRPC round trips (calls/s, p50/p99/p99.9 latency, MB/s) against a bare\n"
	       "SOCK_SEQPACKET echo of the same records (the floor) in the same run.\n"
	       "\n"
	       "  --payload SIZE[,SIZE..]   size of the encoded Call: 64, 4KiB, 1MiB (default 64)\n"
	       "  --connections N[,N..]     concurrent connections, one thread each (default 1,8)\n"
	       "  --seconds S               measuring time per case and side (default 3)\n"
	       "  --calls N                 measured calls per connection, case and side, instead\n"
	       "  --warmup S                warm-up before each round (default 0.2)\n"
	       "  --rounds R                alternate dRPC and floor R times per case (default 3)\n"
	       "  --socket PATH             measure a running server (e.g. drpc-host with the hello\n"
	       "                            plugin) instead of the built-in one\n"
	       "  --module N --method M     what to call (default 0 0: hello); the built-in server\n"
	       "                            also has method 1, the same greeting without the\n"
	       "                            intermediate copies of generated messages\n"
	       "  --raw                     send raw body bytes instead of a hello.Hello\n"
	       "  --json                    machine-readable output\n"
	       "\n"
	       "  --sessions N              instead: open and hold N idle sessions (one hello call\n"
	       "                            each); print the server's RSS, threads and fds, and a\n"
	       "                            fresh client's first answer and call latency meanwhile\n"
	       "  --flood                   instead: memory attack (connections sending all but the\n"
	       "                            last chunk of a maximum-size message), slow-loris and\n"
	       "                            never-reading clients, with a bystander calling; print\n"
	       "                            the server's peak RSS against its budget and the\n"
	       "                            bystander's failed calls (must be 0)\n"
	       "  --flood-connections N     connections of the memory attack (default 64)\n"
	       "  --isolation               instead: the echo plugin in two drpc-host processes,\n"
	       "                            in-process and isolated (a worker process), each case\n"
	       "                            against the floor; isolated targets >= 0.45 x the floor\n"
	       "                            up to 4 KiB, >= 0.40 x for larger calls; and the bare\n"
	       "                            relay (the floor's records through a relay process to\n"
	       "                            an echo process, no dRPC): what that shape costs; and,\n"
	       "                            for one-record messages, the multiplexed and the\n"
	       "                            event-loop relays (one shared connection to the echo)\n"
	       "  --reload-storm            instead: an in-process drpc-host serving the storm\n"
	       "                            plugin (module 4300); after a steady-state window,\n"
	       "                            storm.so is replaced (rename) by the other build, again\n"
	       "                            and again, under load. --connections N (default 8) and\n"
	       "                            --seconds S (steady window, default 2) apply\n"
	       "  --reloads N               reloads in the storm (default 100)\n"
	       "  --storm-plugins DIR       where storm_a.so and storm_b.so are (default: the\n"
	       "                            build's tools/bench/storm)\n"
	       "\n"
	       "Every payload runs with every connection count. With neither option: 64 B x 1,\n"
	       "64 B x 8 and 1 MiB x 1 connection. Targets: calls up to 4 KiB at >= 0.70 x the\n"
	       "floor's calls/s over 1 connection, >= 0.60 x over more; 1 MiB and up at >= 1 GB/s\n"
	       "each way. cpu is the process's CPU time per call (with the built-in server, both\n"
	       "ends), steadier than wall time on a busy machine. machine idle and steal are the\n"
	       "shares of all CPUs' time that sat idle and that a hypervisor took back while the\n"
	       "side ran (/proc/stat): a side that leaves CPUs idle pays for every wake from idle.\n"
	       "The storm reports reload latency (rename to the first answer from the new build),\n"
	       "call p99 in the storm vs steady state (target <= 3x), failed calls and answers\n"
	       "from neither build (target 0), and afterwards the runtime copies still mapped\n"
	       "and on disk (target 1) and open descriptors (target: no growth).\n"
	       "Exits 0 when every case ran, or every reload was answered (whatever the\n"
	       "figures), 1 on an error, 2 on a bad command line.\n";
}

} // namespace drpc::bench
