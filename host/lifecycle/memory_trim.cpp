// SPDX-License-Identifier: Apache-2.0
// malloc_trim at quiet moments, and the RSS figure that shows it worked.
#include <drpc/lifecycle/memory_trim.hpp>

#include <drpc/log.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <string>
#include <unistd.h>

namespace drpc::host {

uint64_t resident_bytes() noexcept
{
	std::FILE *statm = std::fopen("/proc/self/statm", "re");
	if (statm == nullptr)
		return 0;
	unsigned long long size = 0;
	unsigned long long resident = 0;
	const int read = std::fscanf(statm, "%llu %llu", &size, &resident);
	std::fclose(statm);
	return read == 2 ? resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

void return_large_blocks_on_free() noexcept
{
	const char *tunables = std::getenv("GLIBC_TUNABLES");
	if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.mmap_threshold") != nullptr)
		return; // the operator's choice
	// Setting it also turns glibc's dynamic adjustment off, for the trim
	// threshold too.
	(void)::mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold_bytes));
}

void trim_memory(std::string_view why) noexcept
{
	const bool logging = drpc::log::enabled(drpc::log::Level::debug);
	const uint64_t before = logging ? resident_bytes() : 0;
	(void)::malloc_trim(0);
	if (!logging)
		return;
	try {
		const uint64_t after = resident_bytes();
		drpc::log::debug("memory", "trimmed after " + std::string(why) + ": RSS " +
		                                   std::to_string(before >> 10) + " KiB -> " +
		                                   std::to_string(after >> 10) + " KiB");
	} catch (...) {
		// Out of memory while logging: the trim itself is done.
	}
}

bool IdleTrim::sample(uint64_t activity, Clock::time_point now) noexcept
{
	if (activity != last_activity_) {
		last_activity_ = activity;
		last_change_ = now;
		pending_ = true;
		return false;
	}
	if (!pending_ || now - last_change_ < quiet_)
		return false;
	pending_ = false;
	trim_memory("a burst of calls");
	return true;
}

} // namespace drpc::host
