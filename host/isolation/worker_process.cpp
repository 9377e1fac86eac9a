// SPDX-License-Identifier: Apache-2.0
// Starting a worker process and knowing it by its pidfd.
#include "worker_process.hpp"

#include <drpc/error.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <string_view>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>
#include <vector>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace drpc::host::isolation {
namespace {

drpc::UniqueFd listening_socket(const std::filesystem::path &path)
{
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	const std::string text = path.string();
	if (text.size() >= sizeof(address.sun_path))
		throw drpc::Error("worker socket " + text + ": path longer than " +
		                  std::to_string(sizeof(address.sun_path) - 1) + " bytes");
	std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
	drpc::UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (!fd.valid())
		throw drpc::SystemError("worker socket " + text + ": socket", errno);
	::unlink(text.c_str()); // a name left by a worker of a crashed host; the directory is the host's
	if (::bind(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address)) != 0)
		throw drpc::SystemError("worker socket " + text + ": bind", errno);
	if (::chmod(text.c_str(), 0600) != 0 || ::listen(fd.get(), 128) != 0) {
		const int error = errno;
		::unlink(text.c_str());
		throw drpc::SystemError("worker socket " + text + ": listen", error);
	}
	return fd;
}

drpc::UniqueFd config_memfd(const std::string &config)
{
	drpc::UniqueFd fd(::memfd_create("drpc-worker-config", MFD_CLOEXEC));
	if (!fd.valid())
		throw drpc::SystemError("worker config: memfd_create", errno);
	size_t done = 0;
	while (done < config.size()) {
		const ssize_t put = ::write(fd.get(), config.data() + done, config.size() - done);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			throw drpc::SystemError("worker config: write", errno);
		done += static_cast<size_t>(put);
	}
	if (::lseek(fd.get(), 0, SEEK_SET) != 0)
		throw drpc::SystemError("worker config: lseek", errno);
	return fd;
}

struct Pipe {
	drpc::UniqueFd read;
	drpc::UniqueFd write;
};

Pipe make_pipe(const char *what)
{
	int fds[2];
	if (::pipe2(fds, O_CLOEXEC) != 0)
		throw drpc::SystemError(std::string("worker ") + what + ": pipe2", errno);
	return {drpc::UniqueFd(fds[0]), drpc::UniqueFd(fds[1])};
}

/// The decimal digits of `value` at the end of `buffer`; async-signal-safe.
char *format_decimal(char *end, unsigned long value) noexcept
{
	*--end = '\0';
	do {
		*--end = static_cast<char>('0' + value % 10);
		value /= 10;
	} while (value != 0);
	return end;
}

/// What the child needs to join its cgroup, made before fork.
struct CgroupJoin {
	drpc::UniqueFd procs;
	/// "error joining its cgroup: <path>: errno ", the child adds the number.
	std::string failure;
};

CgroupJoin prepare_join(const worker::WorkerCgroup *cgroup)
{
	if (cgroup == nullptr)
		return {};
	return {cgroup->open_procs(), "error joining its cgroup: writing its pid to " +
	                                      (cgroup->directory() / "cgroup.procs").string() + ": errno "};
}

/// In the child: moves itself into its cgroup, or says why not on the status
/// pipe and exits. Async-signal-safe.
void join_cgroup(const CgroupJoin &join, int status_fd) noexcept
{
	if (!join.procs.valid())
		return;
	char digits[24];
	const char *pid = format_decimal(digits + sizeof(digits), static_cast<unsigned long>(::getpid()));
	const size_t length = static_cast<size_t>(digits + sizeof(digits) - 1 - pid);
	ssize_t put;
	do
		put = ::write(join.procs.get(), pid, length);
	while (put < 0 && errno == EINTR);
	if (put == static_cast<ssize_t>(length))
		return;
	const int error = put < 0 ? errno : EIO;
	// One write of one line, under PIPE_BUF: the host reads it whole.
	char line[512];
	const size_t prefix = std::min(join.failure.size(), sizeof(line) - sizeof(digits) - 1);
	std::memcpy(line, join.failure.data(), prefix);
	const char *number = format_decimal(digits + sizeof(digits), static_cast<unsigned long>(error));
	const size_t number_length = static_cast<size_t>(digits + sizeof(digits) - 1 - number);
	std::memcpy(line + prefix, number, number_length);
	line[prefix + number_length] = '\n';
	while (::write(status_fd, line, prefix + number_length + 1) < 0 && errno == EINTR) {
	}
	::_exit(126);
}

/// In the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const char *executable, char *const argv[], const int (&from)[6], int null_fd,
                             int output_fd, const CgroupJoin &cgroup) noexcept
{
	// A process group of its own, so that what its plugin starts is
	// stopped with it (WorkerProcess::try_reap), and what it signals with
	// kill(0, ...) is its own; Ctrl-C reaches the host only, which stops its
	// workers in order.
	(void)::setpgid(0, 0);
	join_cgroup(cgroup, from[2]);
	// First out of the way of 3..7 (a source may sit on a target), then
	// into place; dup2 leaves the copies without FD_CLOEXEC.
	int moved[6];
	for (int i = 0; i < 6; ++i) {
		moved[i] = ::fcntl(from[i], F_DUPFD_CLOEXEC, 16);
		if (moved[i] < 0)
			::_exit(127);
	}
	if (::dup2(null_fd, 0) < 0 || ::dup2(output_fd, 1) < 0 || ::dup2(output_fd, 2) < 0)
		::_exit(127);
	const int targets[5] = {worker_plugin_fd, worker_listen_fd, worker_status_fd, worker_config_fd,
	                        worker_region_fd};
	for (int i = 0; i < 5; ++i) {
		if (::dup2(moved[i], targets[i]) < 0)
			::_exit(127);
	}
	sigset_t none;
	sigemptyset(&none);
	::sigprocmask(SIG_SETMASK, &none, nullptr);
	::execv(executable, argv);
	::_exit(127);
}

/// Whether a process other than `leader` (a zombie: it is in its group until
/// it is reaped) is in process group `leader`, from /proc; no when unreadable.
bool others_in_group(pid_t leader) noexcept
{
	DIR *const proc = ::opendir("/proc");
	if (proc == nullptr)
		return false;
	bool found = false;
	while (const dirent *entry = ::readdir(proc)) {
		char *end = nullptr;
		const long pid = std::strtol(entry->d_name, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == leader)
			continue;
		char path[64];
		std::snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		char stat[512];
		const ssize_t got = ::read(fd, stat, sizeof(stat) - 1);
		::close(fd);
		if (got <= 0)
			continue;
		stat[got] = '\0';
		// "pid (comm) state ppid pgrp ...": comm may hold anything, ')' too.
		const char *after_comm = std::strrchr(stat, ')');
		long group = 0;
		if (after_comm != nullptr && std::sscanf(after_comm + 1, " %*c %*d %ld", &group) == 1 &&
		    group == leader) {
			found = true;
			break;
		}
	}
	::closedir(proc);
	return found;
}

} // namespace

std::string name_child_errno(const std::string &line)
{
	constexpr std::string_view marker = "errno ";
	const size_t at = line.rfind(marker);
	if (at == std::string::npos || at + marker.size() == line.size() || line.size() - at > marker.size() + 4)
		return line;
	int error = 0;
	for (size_t i = at + marker.size(); i < line.size(); ++i) {
		if (line[i] < '0' || line[i] > '9')
			return line;
		error = error * 10 + (line[i] - '0');
	}
	return line.substr(0, at) + std::error_code(error, std::generic_category()).message() + " (errno " +
	       std::to_string(error) + ")";
}

std::unique_ptr<WorkerProcess> WorkerProcess::spawn(const WorkerSpawn &spawn)
{
	std::unique_ptr<WorkerProcess> worker(new WorkerProcess());
	drpc::UniqueFd listener = listening_socket(spawn.socket_path);
	worker->socket_path_ = spawn.socket_path;
	drpc::UniqueFd config = config_memfd(spawn.config);
	Pipe output = make_pipe("output");
	Pipe status = make_pipe("status");
	drpc::UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
	if (!null_fd.valid())
		throw drpc::SystemError("worker: open /dev/null", errno);

	// Everything the child needs is made before fork: it only moves
	// descriptors and execs.
	const std::string executable = spawn.executable.string();
	std::vector<std::string> args = spawn.args.to_argv();
	args.insert(args.begin(), "drpc-worker:" + spawn.args.name);
	std::vector<char *> argv;
	for (std::string &arg : args)
		argv.push_back(arg.data());
	argv.push_back(nullptr);
	const int from[6] = {spawn.plugin_fd, listener.get(),  status.write.get(),
	                     config.get(),    spawn.region_fd, output.write.get()};
	const CgroupJoin cgroup = prepare_join(spawn.cgroup);

	const pid_t pid = ::fork();
	if (pid < 0)
		throw drpc::SystemError("worker " + spawn.args.name + ": fork", errno);
	if (pid == 0)
		exec_child(executable.c_str(), argv.data(), from, null_fd.get(), output.write.get(), cgroup);

	worker->pid_ = pid;
	// Also here, so that the group exists before the host may signal it
	// (EACCES once the child has exec'd: it made it itself by then).
	(void)::setpgid(pid, pid);
	worker->pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
	if (!worker->pidfd_.valid()) {
		const int error = errno;
		::kill(pid, SIGKILL);
		::waitpid(pid, nullptr, 0);
		worker->reaped_ = true;
		throw drpc::SystemError("worker " + spawn.args.name + ": pidfd_open", error);
	}
	worker->output_ = std::move(output.read);
	worker->status_ = std::move(status.read);
	return worker;
}

WorkerProcess::~WorkerProcess()
{
	if (!reaped_ && pid_ > 0)
		(void)stop(SIGKILL, std::chrono::milliseconds(0));
	if (!socket_path_.empty())
		::unlink(socket_path_.c_str());
}

void WorkerProcess::kill(int signal) const noexcept
{
	// The worker only: a plugin's helper may still serve a call while the
	// worker drains; what is left of its group is killed at the reap.
	if (!reaped_ && pidfd_.valid())
		(void)::syscall(SYS_pidfd_send_signal, pidfd_.get(), signal, nullptr, 0);
}

std::optional<siginfo_t> WorkerProcess::try_reap() noexcept
{
	if (reaped_)
		return std::nullopt;
	siginfo_t info{};
	// Looked at first and reaped after: while it is a zombie its pid, so
	// its group's, cannot be anyone else's.
	if (!wait_for(WEXITED | WNOHANG | WNOWAIT, info))
		return std::nullopt;
	if (info.si_pid == 0)
		return std::nullopt; // still running
	// What its plugin started and left is stopped with it.
	if (pid_ > 1) {
		left_processes_ = others_in_group(pid_);
		(void)::kill(-pid_, SIGKILL);
	}
	if (!wait_for(WEXITED | WNOHANG, info))
		return std::nullopt;
	reaped_ = true;
	return info;
}

bool WorkerProcess::wait_for(int options, siginfo_t &info) noexcept
{
	for (;;) {
		if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, options) == 0)
			return true;
		if (errno == ECHILD)
			reaped_ = true; // reaped elsewhere: nothing left to wait for
		if (errno != EINTR)
			return false;
	}
}

siginfo_t WorkerProcess::stop(int signal, std::chrono::milliseconds grace) noexcept
{
	kill(signal);
	const auto deadline = std::chrono::steady_clock::now() + grace;
	for (;;) {
		if (auto info = try_reap())
			return *info;
		if (reaped_)
			return {};
		const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0) {
			kill(SIGKILL);
			pollfd ready{pidfd_.get(), POLLIN, 0};
			(void)::poll(&ready, 1, 1000);
			continue;
		}
		pollfd ready{pidfd_.get(), POLLIN, 0};
		(void)::poll(&ready, 1, static_cast<int>(left.count()));
	}
}

} // namespace drpc::host::isolation
