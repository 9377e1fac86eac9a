// SPDX-License-Identifier: Apache-2.0
// The worker's command line, both ways.
#include "worker_args.hpp"

#include "spin_budget.hpp"

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace drpc::host::isolation {
namespace {

// A ring made without a module's setting (a producer's, a test's) spins as
// one made with the default would.
static_assert(SpinBudget::default_largest == std::chrono::microseconds(IsolationSettings::default_ring_spin_us));

template <typename T> T number(std::string_view key, std::string_view text)
{
	T value{};
	const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (error != std::errc() || end != text.data() + text.size())
		throw std::invalid_argument("worker argument " + std::string(key) + ": '" + std::string(text) +
		                            "' is not a number");
	return value;
}

} // namespace

std::vector<std::string> WorkerArgs::to_argv() const
{
	std::vector<std::string> argv{std::string(worker_mode_flag),
	                              "name=" + name,
	                              "source=" + source.string(),
	                              "generation=" + std::to_string(generation),
	                              "parent=" + std::to_string(parent),
	                              "host-uid=" + std::to_string(host_uid),
	                              "log-level=" + std::to_string(log_level)};
	if (uid)
		argv.push_back("uid=" + std::to_string(*uid));
	if (gid)
		argv.push_back("gid=" + std::to_string(*gid));
	if (memory_limit_bytes)
		argv.push_back("memory-limit=" + std::to_string(*memory_limit_bytes));
	if (sandbox)
		argv.emplace_back("sandbox=1");
	argv.push_back("ring-spin-us=" + std::to_string(ring_spin.count()));
	return argv;
}

WorkerArgs WorkerArgs::parse(std::span<const char *const> args)
{
	WorkerArgs parsed;
	for (const char *arg : args) {
		const std::string_view text(arg);
		const size_t equals = text.find('=');
		if (equals == std::string_view::npos)
			throw std::invalid_argument("worker argument '" + std::string(text) + "' is not key=value");
		const std::string_view key = text.substr(0, equals);
		const std::string_view value = text.substr(equals + 1);
		if (key == "name")
			parsed.name = value;
		else if (key == "source")
			parsed.source = value;
		else if (key == "generation")
			parsed.generation = number<uint64_t>(key, value);
		else if (key == "parent")
			parsed.parent = number<pid_t>(key, value);
		else if (key == "host-uid")
			parsed.host_uid = number<uid_t>(key, value);
		else if (key == "log-level")
			parsed.log_level = number<int>(key, value);
		else if (key == "uid")
			parsed.uid = number<uid_t>(key, value);
		else if (key == "gid")
			parsed.gid = number<gid_t>(key, value);
		else if (key == "memory-limit")
			parsed.memory_limit_bytes = number<uint64_t>(key, value);
		else if (key == "sandbox")
			parsed.sandbox = value == "1";
		else if (key == "ring-spin-us")
			parsed.ring_spin = std::chrono::microseconds(number<uint32_t>(key, value));
		else
			throw std::invalid_argument("unknown worker argument '" + std::string(key) + "'");
	}
	if (parsed.name.empty() || parsed.parent == 0)
		throw std::invalid_argument("worker arguments lack name= or parent=");
	return parsed;
}

} // namespace drpc::host::isolation
