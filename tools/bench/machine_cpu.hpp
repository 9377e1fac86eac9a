// SPDX-License-Identifier: Apache-2.0
/// @file machine_cpu.hpp
/// How the whole machine's CPUs spent a measuring window, from the first
/// line of /proc/stat, beside each side's own CPU time.
///
/// Why: on a VM the share of a window that the CPUs sat idle, and the share
/// the hypervisor took back (steal), say more about a run than its process
/// CPU time does. A side that leaves CPUs idle between wake-ups pays for
/// each wake-up from idle, and where the guest does not poll before it
/// halts (guest_halt_poll_ns 0) that cost shows as steal: at 64 B x 8 on
/// the project's VM, isolated echo ran with 9-27% idle and 0-31% steal
/// while the floor, in the same runs, had neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace drpc::bench {

/// Clock ticks (USER_HZ) of all CPUs together.
struct MachineCpu {
	uint64_t busy = 0;  // user, nice, system, irq, softirq
	uint64_t idle = 0;  // idle and iowait
	uint64_t steal = 0; // taken by the hypervisor

	/// The aggregate "cpu " line of /proc/stat's `text`; nothing when it is
	/// missing or malformed.
	[[nodiscard]] static std::optional<MachineCpu> parse(std::string_view text) noexcept;
	/// This moment's, from /proc/stat; nothing when it cannot be read.
	[[nodiscard]] static std::optional<MachineCpu> now() noexcept;

	[[nodiscard]] uint64_t total() const noexcept { return busy + idle + steal; }
	/// Ticks from `earlier` to this (both from now(), earlier first).
	[[nodiscard]] MachineCpu since(const MachineCpu &earlier) const noexcept;
	MachineCpu &operator+=(const MachineCpu &other) noexcept;
};

/// The CPUs, for a run's heading: "2 CPUs", and on a guest that uses the
/// haltpoll cpuidle driver its polling, "2 CPUs, guest halt-polling off
/// (guest_halt_poll_ns 0)" or "2 CPUs, guest halt-polling up to 200 us".
[[nodiscard]] std::string describe_cpus();

} // namespace drpc::bench
