// SPDX-License-Identifier: Apache-2.0
// The machine's CPU ticks from /proc/stat (see machine_cpu.hpp).
#include "machine_cpu.hpp"

#include <array>
#include <charconv>
#include <fstream>
#include <thread>

namespace drpc::bench {
namespace {

std::string read_text(const char *path, size_t limit)
{
	std::ifstream in(path);
	std::string text(limit, '\0');
	in.read(text.data(), static_cast<std::streamsize>(limit));
	text.resize(static_cast<size_t>(in.gcount()));
	return text;
}

} // namespace

std::optional<MachineCpu> MachineCpu::parse(std::string_view text) noexcept
{
	// "cpu  user nice system idle iowait irq softirq steal ..."; guest time
	// is already inside user and nice.
	constexpr std::string_view prefix = "cpu ";
	if (!text.starts_with(prefix))
		return std::nullopt;
	const std::string_view line = text.substr(0, text.find('\n'));
	std::array<uint64_t, 8> fields{};
	const char *at = line.data() + prefix.size();
	const char *const end = line.data() + line.size();
	for (uint64_t &field : fields) {
		while (at < end && *at == ' ')
			++at;
		const auto [next, error] = std::from_chars(at, end, field);
		if (error != std::errc() || (next < end && *next != ' '))
			return std::nullopt;
		at = next;
	}
	const auto [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
	return MachineCpu{user + nice + system + irq + softirq, idle + iowait, steal};
}

std::optional<MachineCpu> MachineCpu::now() noexcept
{
	try {
		return parse(read_text("/proc/stat", 512));
	} catch (...) {
		return std::nullopt;
	}
}

MachineCpu MachineCpu::since(const MachineCpu &earlier) const noexcept
{
	// Counters only grow; a guest whose steal counter went back is clamped.
	const auto delta = [](uint64_t later, uint64_t before) { return later > before ? later - before : 0; };
	return {delta(busy, earlier.busy), delta(idle, earlier.idle), delta(steal, earlier.steal)};
}

MachineCpu &MachineCpu::operator+=(const MachineCpu &other) noexcept
{
	busy += other.busy;
	idle += other.idle;
	steal += other.steal;
	return *this;
}

std::string describe_cpus()
{
	std::string text = std::to_string(std::thread::hardware_concurrency()) + " CPUs";
	const std::string driver = read_text("/sys/devices/system/cpu/cpuidle/current_driver", 64);
	if (!driver.starts_with("haltpoll"))
		return text;
	const std::string poll = read_text("/sys/module/haltpoll/parameters/guest_halt_poll_ns", 32);
	uint64_t ns = 0;
	const auto [next, error] = std::from_chars(poll.data(), poll.data() + poll.size(), ns);
	if (error != std::errc() || next == poll.data())
		return text;
	if (ns == 0)
		return text + ", guest halt-polling off (guest_halt_poll_ns 0)";
	return text + ", guest halt-polling up to " + std::to_string(ns / 1000) + " us";
}

} // namespace drpc::bench
