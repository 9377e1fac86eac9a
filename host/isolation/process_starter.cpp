// SPDX-License-Identifier: Apache-2.0
// Turning a checked plugin file into a module served by a worker process.
#include "process_starter.hpp"

#include "remote_module.hpp"
#include "worker_monitor.hpp"

#include "../lifecycle/plugin_info.hpp"

#include <drpc/error.hpp>
#include <drpc/log.hpp>

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

/// The plugin as the worker gets it. Mapping goes through
/// /proc/self/fd/<fd>, which reopens the file and checks its mode: a worker
/// running as another user cannot reopen the host's 0600 copy, so it gets a
/// sealed memfd with the same bytes instead (nobody can change it, not even
/// the worker).
drpc::UniqueFd plugin_fd_for(const IsolatedPlugin &plugin)
{
	// Read-only, so the worker cannot change the host's copy.
	drpc::UniqueFd copy(::open(plugin.copy.path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
	if (!copy.valid())
		throw drpc::SystemError("opening the runtime copy " + plugin.copy.path().string(), errno);
	if (!plugin.settings.uid && !plugin.settings.gid)
		return copy;
	drpc::UniqueFd sealed(::memfd_create(plugin.info.name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!sealed.valid())
		throw drpc::SystemError("memfd_create for the worker's copy", errno);
	char buffer[65536];
	for (;;) {
		const ssize_t got = ::read(copy.get(), buffer, sizeof(buffer));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			throw drpc::SystemError("reading the runtime copy " + plugin.copy.path().string(), errno);
		if (got == 0)
			break;
		for (ssize_t done = 0; done < got;) {
			const ssize_t put = ::write(sealed.get(), buffer + done, static_cast<size_t>(got - done));
			if (put < 0 && errno == EINTR)
				continue;
			if (put <= 0)
				throw drpc::SystemError("writing the worker's copy", errno);
			done += put;
		}
	}
	if (::fcntl(sealed.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		throw drpc::SystemError("sealing the worker's copy", errno);
	return sealed;
}

class ProcessStarter final : public IsolatedStarter {
public:
	explicit ProcessStarter(std::filesystem::path executable) : executable_(std::move(executable)) {}

	std::shared_ptr<HostedModule> start(IsolatedPlugin plugin) override
	{
		drpc::UniqueFd fd = plugin_fd_for(plugin);
		const IsolationSettings &settings = plugin.settings;
		WorkerPlan plan{
			.executable = executable_,
			.args =
				WorkerArgs{
					.name = plugin.info.name,
					.source = plugin.source,
					.generation = plugin.generation,
					.parent = ::getpid(),
					.host_uid = ::geteuid(),
					.uid = settings.uid,
					.gid = settings.gid,
					.memory_limit_bytes = settings.memory_limit_bytes,
					.sandbox = settings.sandbox,
					.log_level = static_cast<int>(drpc::log::level()),
				},
			.plugin_fd = std::move(fd),
			.config = std::move(plugin.config),
			.socket_dir = plugin.copy.path().parent_path(),
			.label = describe(plugin.info) + " generation " + std::to_string(plugin.generation),
			// SO_PEERCRED names whoever called listen(): the host itself,
		        // which bound the socket before handing it down.
			.worker_uid = ::geteuid(),
		};
		auto worker = std::make_shared<SupervisedWorker>(monitor(), std::move(plan));
		worker->start(worker_start_timeout);
		auto module = std::make_shared<RemoteModule>(RemoteParts{
			.source = plugin.source,
			.generation = plugin.generation,
			.info = plugin.info,
			.copy = std::move(plugin.copy),
			.access = std::move(plugin.access),
			.call_timeout = std::chrono::milliseconds(settings.call_timeout_ms),
			.worker = std::move(worker),
		});
		module->learn_description();
		return module;
	}

private:
	/// Made with the first worker: a host without isolated modules has no
	/// monitor thread. Lives as long as the starter, so as the workers.
	WorkerMonitor &monitor()
	{
		const std::lock_guard lock(mutex_);
		if (!monitor_)
			monitor_ = std::make_unique<WorkerMonitor>();
		return *monitor_;
	}

	const std::filesystem::path executable_;
	std::mutex mutex_;
	std::unique_ptr<WorkerMonitor> monitor_; // guarded by mutex_
};

} // namespace

std::shared_ptr<IsolatedStarter> make_process_starter(std::filesystem::path executable)
{
	return std::make_shared<ProcessStarter>(std::move(executable));
}

} // namespace drpc::host::isolation
