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
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

class ProcessStarter final : public IsolatedStarter {
public:
	explicit ProcessStarter(std::filesystem::path executable) : executable_(std::move(executable)) {}

	std::shared_ptr<HostedModule> start(IsolatedPlugin plugin) override
	{
		// Read-only, so the worker cannot change the host's copy.
		drpc::UniqueFd fd(::open(plugin.copy.path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
		if (!fd.valid())
			throw drpc::SystemError("opening the runtime copy " + plugin.copy.path().string(), errno);
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
			.worker_uid = settings.uid.value_or(::geteuid()),
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
