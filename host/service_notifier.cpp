// SPDX-License-Identifier: Apache-2.0
// sd_notify() for drpc-host's Type=notify service.
#include "service_notifier.hpp"

#include <drpc/log.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

#ifdef DRPC_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace drpc::host {

ServiceNotifier::ServiceNotifier() noexcept
{
#ifdef DRPC_HAVE_SYSTEMD
	uint64_t usec = 0;
	if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		watchdog_interval_ = std::chrono::milliseconds(std::max<uint64_t>(usec / 2000, 1));
#endif
}

void ServiceNotifier::ready(std::string_view status) noexcept { notify("READY=1\nSTATUS=" + std::string(status)); }

void ServiceNotifier::reloading() noexcept
{
	// MONOTONIC_USEC lets systemd (Type=notify-reload) tell this reload from a later one.
	timespec now{};
	::clock_gettime(CLOCK_MONOTONIC, &now);
	const uint64_t usec = static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
	notify("RELOADING=1\nSTATUS=rescanning the plugins directory\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::stopping() noexcept { notify("STOPPING=1\nSTATUS=shutting down"); }

void ServiceNotifier::status(std::string_view status) noexcept { notify("STATUS=" + std::string(status)); }

void ServiceNotifier::watchdog() noexcept { notify("WATCHDOG=1"); }

void ServiceNotifier::notify(const std::string &state) noexcept
{
#ifdef DRPC_HAVE_SYSTEMD
	if (const int error = ::sd_notify(0, state.c_str()); error < 0)
		drpc::log::warn("systemd", "sd_notify: " + std::string(std::strerror(-error)));
#else
	(void)state;
#endif
}

} // namespace drpc::host
