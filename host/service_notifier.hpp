// SPDX-License-Identifier: Apache-2.0
/// @file service_notifier.hpp
/// systemd's service notifications (sd_notify) and its watchdog, for
/// Type=notify units. Every call does nothing when the host does not run
/// under systemd (no NOTIFY_SOCKET) or was built without libsystemd.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace drpc::host {

class ServiceNotifier {
public:
	/// Reads the watchdog interval systemd asks for (WatchdogSec=).
	ServiceNotifier() noexcept;

	/// READY=1 with a STATUS= line: the socket serves, the plugins are loaded.
	void ready(std::string_view status) noexcept;
	/// RELOADING=1, before a rescan of the plugins directory (ready() after).
	void reloading() noexcept;
	/// STOPPING=1, at the start of a shutdown.
	void stopping() noexcept;
	/// A STATUS= line alone.
	void status(std::string_view status) noexcept;

	/// How often watchdog() must be called: half of WatchdogSec, or nothing
	/// when the watchdog is off.
	[[nodiscard]] std::optional<std::chrono::milliseconds> watchdog_interval() const noexcept
	{
		return watchdog_interval_;
	}
	/// WATCHDOG=1.
	void watchdog() noexcept;

private:
	void notify(const std::string &state) noexcept;

	std::optional<std::chrono::milliseconds> watchdog_interval_;
};

} // namespace drpc::host
