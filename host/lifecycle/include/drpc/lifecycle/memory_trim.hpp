// SPDX-License-Identifier: Apache-2.0
/// @file memory_trim.hpp
/// Giving freed heap back to the system. glibc keeps what a burst of calls
/// or an unloaded plugin freed in its arenas for reuse, so RSS stays at its
/// peak; malloc_trim(0) returns the free pages. It walks every arena, so it
/// runs at moments off the call path: after an unload or a reload, and from
/// the host's event loop once the server has gone quiet after a burst.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace drpc::host {

/// Large blocks go back to the system when freed, busy or not: glibc's mmap
/// threshold is fixed at `mmap_threshold_bytes` (by default it climbs to up
/// to 32 MiB after the first large free, and from then on megabyte values
/// live on the heaps, given back only by a trim). Leaves the threshold alone
/// when GLIBC_TUNABLES sets glibc.malloc.mmap_threshold. Call once, before
/// the first thread starts.
void return_large_blocks_on_free() noexcept;

/// Blocks of this size and larger are mmapped on their own (see above).
inline constexpr size_t mmap_threshold_bytes = size_t{128} << 10;

/// malloc_trim(0), with a debug line saying why and how much RSS went.
void trim_memory(std::string_view why) noexcept;

/// The host's resident set size in bytes (/proc/self/statm), 0 if unknown.
[[nodiscard]] uint64_t resident_bytes() noexcept;

/// Decides, from the server's activity counters sampled by the event loop,
/// when a burst is over: once the counters have stopped moving for `quiet`,
/// the memory is trimmed, once per burst.
class IdleTrim {
public:
	using Clock = std::chrono::steady_clock;

	explicit IdleTrim(std::chrono::milliseconds quiet = std::chrono::seconds(1)) noexcept : quiet_(quiet) {}

	/// Called by the event loop with a number that grows with activity
	/// (calls served plus sessions accepted). Trims when a burst has just
	/// ended; returns whether it did.
	bool sample(uint64_t activity, Clock::time_point now = Clock::now()) noexcept;

	/// How long the event loop may sleep before the next sample matters.
	[[nodiscard]] std::chrono::milliseconds next_sample() const noexcept { return quiet_; }

private:
	const std::chrono::milliseconds quiet_;
	/// A server starts with none: a burst before the first sample counts.
	uint64_t last_activity_ = 0;
	Clock::time_point last_change_{};
	bool pending_ = false;
};

} // namespace drpc::host
