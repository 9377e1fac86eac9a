// SPDX-License-Identifier: Apache-2.0
// Starting, watching, restarting and stopping one module's worker.
#include "supervised_worker.hpp"

#include "exit_cause.hpp"

#include <drpc/error.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <unistd.h>

namespace drpc::host::isolation {
namespace {

constexpr std::string_view log_component = "isolation";

/// How long a stopped worker has to exit after SIGTERM before SIGKILL.
constexpr std::chrono::milliseconds stop_grace{3000};
/// A line of worker output longer than this is logged in pieces.
constexpr size_t max_output_line = 2048;
/// The status line is one short line; more is not read.
constexpr size_t max_status_bytes = 4096;

void set_nonblocking(int fd) noexcept { (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

} // namespace

SupervisedWorker::SupervisedWorker(WorkerMonitor &monitor, WorkerPlan plan)
	: monitor_(monitor), plan_(std::move(plan)), output_limit_("output of the worker of " + plan_.label, 20)
{
}

SupervisedWorker::~SupervisedWorker() { stop(); }

void SupervisedWorker::start(std::chrono::milliseconds timeout)
{
	monitor_.run([this] { launch(); });
	std::unique_lock lock(mutex_);
	const bool decided = changed_.wait_for(lock, timeout, [this] { return phase_ != Phase::starting; });
	if (decided && phase_ == Phase::serving)
		return;
	const std::string why =
		decided ? start_error_ : "did not get ready within " + std::to_string(timeout.count()) + " ms";
	lock.unlock();
	stop();
	throw drpc::Error("its worker " + why);
}

void SupervisedWorker::stop() noexcept
{
	{
		const std::lock_guard lock(mutex_);
		if (phase_ == Phase::stopped)
			return;
		phase_ = Phase::stopped;
		serving_.reset();
	}
	try {
		monitor_.run([this] {
			if (restart_timer_ != 0)
				monitor_.cancel(std::exchange(restart_timer_, 0));
			if (current_) {
				current_->close(); // calls out are answered FAILURE; the worker's link ends
				current_.reset();
			}
			if (process_) {
				monitor_.unwatch(process_->pidfd());
				(void)process_->stop(SIGTERM, stop_grace);
				release_process();
			}
			if (plan_.cgroup) {
				if (const std::string failed = plan_.cgroup->remove(); !failed.empty())
					drpc::log::warn(log_component,
					                "the cgroup of " + plan_.label + " stays behind: " + failed);
			}
		});
	} catch (const std::exception &e) {
		drpc::log::error(log_component, "stopping the worker of " + plan_.label + ": " + e.what());
	}
}

std::shared_ptr<WorkerLink> SupervisedWorker::serving() const
{
	const std::lock_guard lock(mutex_);
	return serving_;
}

bool SupervisedWorker::has_state_handoff() const
{
	const std::lock_guard lock(mutex_);
	return handoff_;
}

WorkerHealth SupervisedWorker::health() const
{
	const std::lock_guard lock(mutex_);
	return health_;
}

void SupervisedWorker::launch()
{
	restart_timer_ = 0;
	status_text_.clear();
	output_text_.clear();
	WorkerSpawn spawn{
		.executable = plan_.executable,
		.args = plan_.args,
		.plugin_fd = plan_.plugin_fd.get(),
		.config = plan_.config,
		.socket_path =
			plan_.socket_dir / ("worker-" + std::to_string(plan_.args.generation) + "-" +
	                                    plan_.args.name.substr(0, 40) + "-" + std::to_string(++serial_) + ".sock"),
	};
	std::optional<SharedRegion> region;
	try {
		region.emplace(SharedRegion::create(plan_.args.name));
		spawn.region_fd = region->fd();
		spawn.cgroup = plan_.cgroup.get();
		process_ = WorkerProcess::spawn(spawn);
		region->close_fd();
	} catch (const std::exception &e) {
		// As a death: counted, retried with backoff, or the start fails.
		const std::lock_guard lock(mutex_);
		start_error_ = std::string("could not be started: ") + e.what();
		if (!served_) {
			phase_ = Phase::failed;
			changed_.notify_all();
			return;
		}
		health_.last_cause = start_error_;
		phase_ = Phase::failed;
		health_.failed = true;
		drpc::log::error(log_component, "the worker of " + plan_.label + " " + start_error_ +
		                                        ": state failed until it is reloaded");
		return;
	}
	// The link's own pidfd, to kill the worker for a call's deadline.
	drpc::UniqueFd link_pidfd(::fcntl(process_->pidfd(), F_DUPFD_CLOEXEC, 0));
	if (link_pidfd.get() < 0) {
		const std::lock_guard lock(mutex_);
		start_error_ = std::string("could not be watched: dup of its pidfd: ") + std::strerror(errno);
		process_->kill(SIGKILL);
	}
	current_ =
		std::make_shared<WorkerLink>(process_->socket_path(), plan_.worker_uid, std::move(link_pidfd),
	                                     std::move(*region), plan_.call_timeout, plan_.label, plan_.args.ring_spin);
	set_nonblocking(process_->output_fd());
	set_nonblocking(process_->status_fd());
	monitor_.watch(process_->output_fd(), [this] { on_output(); });
	monitor_.watch(process_->status_fd(), [this] { on_status(); });
	monitor_.watch(process_->pidfd(), [this] { on_exit(); });
	drpc::log::debug(log_component,
	                 "started the worker of " + plan_.label + ", pid " + std::to_string(process_->pid()));
}

void SupervisedWorker::on_status()
{
	char buffer[512];
	const ssize_t got = ::read(process_->status_fd(), buffer, sizeof(buffer));
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got > 0 && status_text_.size() < max_status_bytes) {
		status_text_.append(buffer, static_cast<size_t>(got));
		if (status_text_.find('\n') == std::string::npos)
			return;
	}
	// A whole line, or the end: either way the status is known.
	monitor_.unwatch(process_->status_fd());
	process_->close_status();
	const std::string line = status_text_.substr(0, status_text_.find('\n'));
	if (line != "ready" && line != "ready handoff") {
		const std::lock_guard lock(mutex_);
		// The worker exits after an error; on_exit() reports it.
		start_error_ =
			line.starts_with("error ")
				? "could not serve it: " + drpc::log::untrusted(name_child_errno(line.substr(6)), 1024)
				: std::string();
		return;
	}
	try {
		current_->open();
	} catch (const std::exception &e) {
		// As a death: on_exit() counts it.
		const std::lock_guard lock(mutex_);
		start_error_ = std::string("could not be reached: ") + e.what();
		process_->kill(SIGKILL);
		return;
	}
	const std::lock_guard lock(mutex_);
	if (phase_ == Phase::stopped)
		return;
	if (served_) {
		++health_.restarts;
		drpc::log::info(log_component, "the worker of " + plan_.label + " serves again (pid " +
		                                       std::to_string(process_->pid()) + ", restart " +
		                                       std::to_string(health_.restarts) + ")");
	}
	served_ = true;
	handoff_ = line == "ready handoff";
	phase_ = Phase::serving;
	serving_ = current_;
	changed_.notify_all();
}

void SupervisedWorker::log_output_line(std::string_view line)
{
	// The worker's own records carry their level inside the line.
	output_limit_.write(drpc::log::Level::info, "worker " + plan_.args.name,
	                    drpc::log::untrusted(line, max_output_line));
}

void SupervisedWorker::on_output()
{
	char buffer[16384];
	for (;;) {
		const ssize_t got = ::read(process_->output_fd(), buffer, sizeof(buffer));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == EAGAIN)
			return;
		if (got <= 0) {
			if (!output_text_.empty())
				log_output_line(std::exchange(output_text_, {}));
			monitor_.unwatch(process_->output_fd());
			process_->close_output();
			return;
		}
		output_text_.append(buffer, static_cast<size_t>(got));
		size_t newline;
		while ((newline = output_text_.find('\n')) != std::string::npos) {
			log_output_line(std::string_view(output_text_).substr(0, newline));
			output_text_.erase(0, newline + 1);
		}
		if (output_text_.size() > max_output_line)
			log_output_line(std::exchange(output_text_, {}));
	}
}

void SupervisedWorker::release_process() noexcept
{
	if (!process_)
		return;
	if (process_->output_fd() >= 0) {
		on_output(); // what it wrote before it ended
		if (process_->output_fd() >= 0)
			monitor_.unwatch(process_->output_fd());
	}
	if (process_->status_fd() >= 0)
		monitor_.unwatch(process_->status_fd());
	if (process_->left_processes())
		drpc::log::warn(log_component, "the worker of " + plan_.label + " (pid " +
		                                       std::to_string(process_->pid()) +
		                                       ") left processes its plugin started: killed them");
	if (current_) {
		current_->close();
		current_.reset();
	}
	process_.reset(); // reaps if needed, removes the socket file
}

void SupervisedWorker::on_exit()
{
	const std::optional<siginfo_t> ended = process_->try_reap();
	if (!ended && !process_->reaped())
		return; // not yet
	monitor_.unwatch(process_->pidfd());
	if (process_->status_fd() >= 0)
		on_status(); // a status written just before the end
	const pid_t pid = process_->pid();
	std::string cause = ended ? describe_exit(*ended) : "ended";
	const std::string kill_reason = current_ ? current_->kill_reason() : std::string();
	if (!kill_reason.empty())
		cause += " (" + kill_reason + ")";
	if (plan_.cgroup) {
		const uint64_t oom_kills = plan_.cgroup->oom_kills();
		if (oom_kills > oom_kills_seen_ && kill_reason.empty())
			cause += " (by the kernel: over memory_limit_bytes, the memory.max of " +
			         plan_.cgroup->directory().string() + ")";
		oom_kills_seen_ = oom_kills;
	}
	release_process();

	const std::lock_guard lock(mutex_);
	if (phase_ == Phase::stopped)
		return;
	serving_.reset();
	if (!served_) {
		// The first start: the load fails, the host's loader reports it.
		start_error_ = start_error_.empty() ? cause : start_error_ + "; it " + cause;
		phase_ = Phase::failed;
		changed_.notify_all();
		return;
	}
	++health_.crashes;
	health_.last_cause = start_error_.empty() ? cause : start_error_ + "; " + cause;
	start_error_.clear();
	const std::optional<std::chrono::milliseconds> delay = policy_.death(RestartPolicy::Clock::now());
	if (!delay) {
		phase_ = Phase::failed;
		health_.failed = true;
		drpc::log::error(log_component, "the worker of " + plan_.label + " (pid " + std::to_string(pid) + ") " +
		                                        health_.last_cause + "; " +
		                                        std::to_string(RestartPolicy::max_deaths) + " deaths within " +
		                                        std::to_string(RestartPolicy::window.count()) +
		                                        " s: state failed, answering FAILURE until it is reloaded");
		return;
	}
	phase_ = Phase::down;
	drpc::log::error(log_component, "the worker of " + plan_.label + " (pid " + std::to_string(pid) + ") " +
	                                        health_.last_cause + "; its calls in flight failed; restarting in " +
	                                        std::to_string(delay->count()) + " ms");
	restart_timer_ = monitor_.at(RestartPolicy::Clock::now() + *delay, [self = weak_from_this()] {
		if (const auto worker = self.lock()) {
			{
				const std::lock_guard relock(worker->mutex_);
				if (worker->phase_ != Phase::down)
					return;
				worker->phase_ = Phase::starting;
			}
			worker->launch();
		}
	});
}

} // namespace drpc::host::isolation
