// SPDX-License-Identifier: Apache-2.0
/// @file worker_process.hpp
/// One worker process: started with exactly the descriptors it needs,
/// known by a pidfd, signalled and reaped through it.
#pragma once

#include "worker_args.hpp"

#include <drpc/unique_fd.hpp>
#include <worker_cgroup.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <signal.h>
#include <string>
#include <sys/types.h>

namespace drpc::host::isolation {

/// What a worker is started with.
struct WorkerSpawn {
	std::filesystem::path executable; ///< drpc-host (/proc/self/exe)
	WorkerArgs args;
	int plugin_fd = -1; ///< the private copy, opened read-only
	int region_fd = -1; ///< the SharedRegion's memfd
	/// The worker's cgroup (null: none): the child writes its pid to its
	/// cgroup.procs before exec, so the plugin is loaded inside its
	/// memory.max.
	const worker::WorkerCgroup *cgroup = nullptr;
	std::string config; ///< modules.<name> as JSON
	/// Where the worker's listening socket is bound, in the host's private
	/// runtime directory (which is what keeps everyone else out).
	std::filesystem::path socket_path;
};

/// A start error the child wrote between fork and exec, where it can only
/// write digits, ends with "errno <N>": this gives it the error's name
/// ("... : No space left on device (errno 28)"). Any other line is returned
/// as it is.
[[nodiscard]] std::string name_child_errno(const std::string &line);

class WorkerProcess {
public:
	/// Binds and listens at spawn.socket_path, then forks and execs the
	/// worker with the plugin at worker_plugin_fd, the listening socket at
	/// worker_listen_fd, a status pipe, the config (a memfd) and the shared
	/// region at worker_region_fd, stdin from
	/// /dev/null and stdout/stderr into output_fd(). The host keeps no copy
	/// of the listening socket, so that the worker's death refuses new
	/// connections at once. Call it from a thread that lives as long as the
	/// worker may (the death signal follows the thread). Throws
	/// drpc::SystemError naming the step.
	[[nodiscard]] static std::unique_ptr<WorkerProcess> spawn(const WorkerSpawn &spawn);

	/// Kills (SIGKILL) and reaps a worker still running, removes the socket file.
	~WorkerProcess();
	WorkerProcess(const WorkerProcess &) = delete;
	WorkerProcess &operator=(const WorkerProcess &) = delete;

	[[nodiscard]] pid_t pid() const noexcept { return pid_; }
	/// Readable once the process has ended.
	[[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
	/// The read end of its stdout and stderr.
	[[nodiscard]] int output_fd() const noexcept { return output_.get(); }
	/// The read end of its status pipe ("ready\n" or "error <why>\n").
	[[nodiscard]] int status_fd() const noexcept { return status_.get(); }
	void close_output() noexcept { output_.reset(); }
	void close_status() noexcept { status_.reset(); }
	[[nodiscard]] const std::filesystem::path &socket_path() const noexcept { return socket_path_; }

	/// Sends `signal` to the worker through the pidfd (never to a recycled
	/// pid); a no-op once reaped.
	void kill(int signal) const noexcept;
	/// Reaps it if it has ended, SIGKILLing first what is left in its
	/// process group: what its plugin started (fork, system()) unless that
	/// left the group (setsid). Nothing while it runs. After a result, the
	/// process is gone for good.
	[[nodiscard]] std::optional<siginfo_t> try_reap() noexcept;
	/// Whether its process group held other processes when it was reaped.
	[[nodiscard]] bool left_processes() const noexcept { return left_processes_; }
	/// Waits for it to end, SIGKILLing it after `grace`; returns how it ended.
	siginfo_t stop(int signal, std::chrono::milliseconds grace) noexcept;
	[[nodiscard]] bool reaped() const noexcept { return reaped_; }

private:
	WorkerProcess() = default;
	/// waitid() on the pidfd with `options`, retried on EINTR.
	[[nodiscard]] bool wait_for(int options, siginfo_t &info) noexcept;

	pid_t pid_ = -1;
	drpc::UniqueFd pidfd_;
	drpc::UniqueFd output_;
	drpc::UniqueFd status_;
	std::filesystem::path socket_path_;
	bool reaped_ = false;
	bool left_processes_ = false;
};

} // namespace drpc::host::isolation
