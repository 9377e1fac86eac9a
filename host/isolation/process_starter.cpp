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
#include <optional>
#include <sys/mman.h>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "isolation";

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
	ProcessStarter(std::filesystem::path executable, WorkerCgroupChoice cgroups)
		: executable_(std::move(executable)), cgroup_choice_(std::move(cgroups))
	{
	}

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
					.ring_spin = std::chrono::microseconds(settings.ring_spin_us.value_or(
						IsolationSettings::default_ring_spin_us)),
					.log_level = static_cast<int>(drpc::log::level()),
				},
			.plugin_fd = std::move(fd),
			.config = std::move(plugin.config),
			.socket_dir = plugin.copy.path().parent_path(),
			.label = describe(plugin.info) + " generation " + std::to_string(plugin.generation),
			// SO_PEERCRED names whoever called listen(): the host itself,
		        // which bound the socket before handing it down.
			.worker_uid = ::geteuid(),
			.call_timeout = std::chrono::milliseconds(settings.call_timeout_ms),
			.cgroup = nullptr, // set below when the module has a memory limit
		};
		if (settings.memory_limit_bytes)
			plan.cgroup = cgroup_for(plugin, *settings.memory_limit_bytes);
		auto worker = std::make_shared<SupervisedWorker>(monitor(), std::move(plan));
		worker->start(worker_start_timeout);
		auto module = std::make_shared<RemoteModule>(RemoteParts{
			.source = plugin.source,
			.generation = plugin.generation,
			.info = plugin.info,
			.copy = std::move(plugin.copy),
			.access = std::move(plugin.access),
			.worker = std::move(worker),
		});
		module->learn_description();
		return module;
	}

private:
	/// The generation's own cgroup with memory.max, or null where the host
	/// may not make one (auto) or must not (off). Throws when the configured
	/// directory is unusable or the cgroup cannot be made: the load fails.
	std::shared_ptr<worker::WorkerCgroup> cgroup_for(const IsolatedPlugin &plugin, uint64_t memory_limit)
	{
		const worker::CgroupSupport &support = cgroups();
		if (!support) {
			if (cgroup_choice_.mode == WorkerCgroupChoice::Mode::directory)
				throw drpc::Error("plugins.worker_cgroup " + cgroup_choice_.directory.string() + ": " +
				                  support.unavailable);
			return nullptr;
		}
		// Per generation: during a reload the old and the new worker each
		// have their own limit.
		return std::make_shared<worker::WorkerCgroup>(
			support, std::string(plugin.info.name) + "." + std::to_string(plugin.generation), memory_limit);
	}

	/// Found or checked once, with the first worker that has a memory limit:
	/// "auto" may move the host into a leaf of its cgroup.
	const worker::CgroupSupport &cgroups()
	{
		const std::lock_guard lock(mutex_);
		if (cgroups_)
			return *cgroups_;
		switch (cgroup_choice_.mode) {
		case WorkerCgroupChoice::Mode::automatic:
			cgroups_ = worker::prepare_worker_cgroups();
			break;
		case WorkerCgroupChoice::Mode::directory:
			cgroups_ = worker::adopt_worker_cgroups(cgroup_choice_.directory);
			break;
		case WorkerCgroupChoice::Mode::off:
			cgroups_ = worker::CgroupSupport{{}, "off (plugins.worker_cgroup)"};
			break;
		}
		if (*cgroups_)
			drpc::log::info(log_component, "memory_limit_bytes: RLIMIT_DATA and a cgroup v2 memory.max per "
			                               "worker, under " +
			                                       cgroups_->directory.string());
		else if (cgroup_choice_.mode != WorkerCgroupChoice::Mode::directory)
			drpc::log::warn(log_component,
			                "memory_limit_bytes: RLIMIT_DATA only, no cgroup v2 memory.max: " +
			                        cgroups_->unavailable);
		return *cgroups_;
	}

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
	const WorkerCgroupChoice cgroup_choice_;
	std::mutex mutex_;
	std::optional<worker::CgroupSupport> cgroups_; // guarded by mutex_
	std::unique_ptr<WorkerMonitor> monitor_;       // guarded by mutex_
};

} // namespace

std::shared_ptr<IsolatedStarter> make_process_starter(std::filesystem::path executable, WorkerCgroupChoice cgroups)
{
	return std::make_shared<ProcessStarter>(std::move(executable), std::move(cgroups));
}

} // namespace drpc::host::isolation
