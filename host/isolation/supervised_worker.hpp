// SPDX-License-Identifier: Apache-2.0
/// @file supervised_worker.hpp
/// The worker process of one isolated module generation, supervised: started
/// and restarted on the monitor thread, its death noticed through its pidfd
/// (the kernel closes its sockets, so every call in flight fails at once),
/// restarted with exponential backoff, and put in state failed after a
/// crash loop (RestartPolicy) until the module is reloaded.
#pragma once

#include "restart_policy.hpp"
#include "worker_link.hpp"
#include "worker_monitor.hpp"
#include "worker_process.hpp"

#include "../lifecycle/hosted_module.hpp"

#include <drpc/log.hpp>
#include <drpc/unique_fd.hpp>
#include <worker_cgroup.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

namespace drpc::host::isolation {

/// What every start of the worker needs.
struct WorkerPlan {
	std::filesystem::path executable;
	WorkerArgs args;
	drpc::UniqueFd plugin_fd; ///< the private copy, read-only
	std::string config;
	std::filesystem::path socket_dir; ///< the host's private runtime directory
	std::string label;                ///< "module 4900 (fault_segv 1.0.0)", for log lines
	uid_t worker_uid = 0;             ///< who listens on the socket (the host), checked by every connection
	/// A call running longer is answered FAILURE and its worker killed (zero: no limit).
	std::chrono::milliseconds call_timeout{0};
	/// The generation's cgroup v2 with memory.max (null: none): every worker
	/// of it joins before exec; removed once the last one is gone.
	std::shared_ptr<worker::WorkerCgroup> cgroup;
};

class SupervisedWorker : public std::enable_shared_from_this<SupervisedWorker> {
public:
	/// `monitor` must outlive the object.
	SupervisedWorker(WorkerMonitor &monitor, WorkerPlan plan);
	~SupervisedWorker();
	SupervisedWorker(const SupervisedWorker &) = delete;
	SupervisedWorker &operator=(const SupervisedWorker &) = delete;

	/// Starts the first worker and waits until it serves. Throws drpc::Error
	/// with its load error, how it ended, or that it did not get ready
	/// within `timeout` (then it is killed).
	void start(std::chrono::milliseconds timeout);
	/// Stops for good: SIGTERM, then SIGKILL after a grace period; no
	/// restart after it. Idempotent.
	void stop() noexcept;

	/// The link to the worker serving now, or null while it is down.
	[[nodiscard]] std::shared_ptr<WorkerLink> serving() const;

	[[nodiscard]] WorkerHealth health() const;
	/// Whether the plugin hands its state over (as its worker said when ready).
	[[nodiscard]] bool has_state_handoff() const;
	[[nodiscard]] const std::string &label() const noexcept { return plan_.label; }

private:
	enum class Phase { starting, serving, down, failed, stopped };

	// On the monitor thread only.
	void launch();
	void on_status();
	void on_output();
	void on_exit();
	void release_process() noexcept;
	void log_output_line(std::string_view line);

	WorkerMonitor &monitor_;
	const WorkerPlan plan_;

	mutable std::mutex mutex_;
	std::condition_variable changed_;
	Phase phase_ = Phase::starting;       // guarded by mutex_
	std::shared_ptr<WorkerLink> serving_; // guarded by mutex_
	WorkerHealth health_;                 // guarded by mutex_
	std::string start_error_;             // guarded by mutex_
	bool handoff_ = false;                // guarded by mutex_

	// The monitor thread's own.
	std::unique_ptr<WorkerProcess> process_;
	std::shared_ptr<WorkerLink> current_; ///< to process_, serving or not yet
	std::string status_text_;
	std::string output_text_;
	RestartPolicy policy_;
	uint64_t restart_timer_ = 0;
	uint64_t serial_ = 0;
	uint64_t oom_kills_seen_ = 0; ///< the cgroup's oom_kill count at the last death
	bool served_ = false;         ///< some worker of this generation has served
	drpc::log::RateLimit output_limit_;
};

} // namespace drpc::host::isolation
