// SPDX-License-Identifier: Apache-2.0
// drpc-host as a child process, and the second user the access tests run as.
#include "host_process.hpp"

#include <drpc/client.hpp>
#include <drpc/error.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifndef DRPC_HOST_EXE
#error "DRPC_HOST_EXE must name the drpc-host executable"
#endif

extern char **environ;

namespace host_test {
namespace {

using namespace std::chrono_literals;

constexpr const char *peer_name = "drpc-test-peer";

/// Drops root for `user` in a forked child; async-signal-safe calls only.
bool become(const User &user) noexcept
{
	return ::setgroups(0, nullptr) == 0 && ::setresgid(user.gid, user.gid, user.gid) == 0 &&
	       ::setresuid(user.uid, user.uid, user.uid) == 0;
}

} // namespace

std::optional<User> second_user()
{
	if (::geteuid() != 0)
		return std::nullopt;
	if (::getpwnam(peer_name) == nullptr) {
		const std::string command =
			std::string("useradd --system --no-create-home --shell /usr/sbin/nologin ") + peer_name +
			" >/dev/null 2>&1";
		if (std::system(command.c_str()) != 0 && ::getpwnam(peer_name) == nullptr)
			throw std::runtime_error(std::string("useradd ") + peer_name + " failed");
	}
	const passwd *entry = ::getpwnam(peer_name);
	if (entry == nullptr)
		throw std::runtime_error(std::string("no user ") + peer_name + " after useradd");
	return User{entry->pw_uid, entry->pw_gid};
}

int run_as(const User &user, const std::function<int()> &body)
{
	const pid_t child = ::fork();
	if (child < 0)
		throw drpc::SystemError("fork", errno);
	if (child == 0) {
		if (!become(user))
			::_exit(126);
		int code = 127;
		try {
			code = body();
		} catch (...) {
			code = 125;
		}
		::_exit(code);
	}
	int status = 0;
	if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) >= 126)
		return -1;
	return WEXITSTATUS(status);
}

HostProcess::HostProcess(std::vector<std::string> args, const std::filesystem::path &stderr_file)
	: HostProcess(std::move(args), stderr_file, Options{})
{
}

HostProcess::HostProcess(std::vector<std::string> args, const std::filesystem::path &stderr_file,
                         const Options &options)
{
	// Everything the child needs is built before fork(): after it, only
	// async-signal-safe calls.
	args.insert(args.begin(), DRPC_HOST_EXE);
	std::vector<char *> argv;
	for (std::string &arg : args)
		argv.push_back(arg.data());
	argv.push_back(nullptr);
	std::vector<std::string> env_strings = options.env;
	std::vector<char *> envp;
	for (std::string &entry : env_strings)
		envp.push_back(entry.data());
	for (char **entry = environ; *entry != nullptr; ++entry)
		envp.push_back(*entry);
	envp.push_back(nullptr);
	const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (err < 0)
		throw drpc::SystemError("open " + stderr_file.string(), errno);
	if (options.user)
		(void)::fchown(err, options.user->uid, options.user->gid);

	pid_ = ::fork();
	if (pid_ < 0) {
		const int error = errno;
		::close(err);
		throw drpc::SystemError("fork", error);
	}
	if (pid_ == 0) {
		// A process group of its own: what a fault in it signals with
		// kill(0, ...) must not reach this test or its runner.
		(void)::setpgid(0, 0);
		const int null = ::open("/dev/null", O_WRONLY);
		if (::dup2(err, 2) < 0 || null < 0 || ::dup2(null, 1) < 0)
			::_exit(127);
		if (options.user && !become(*options.user))
			::_exit(127);
		::execve(DRPC_HOST_EXE, argv.data(), envp.data());
		::_exit(127);
	}
	::close(err);
}

HostProcess::~HostProcess()
{
	if (pid_ > 0) {
		::kill(pid_, SIGKILL);
		::waitpid(pid_, nullptr, 0);
	}
}

void HostProcess::signal(int number) const { ::kill(pid_, number); }

int HostProcess::wait(std::chrono::seconds deadline)
{
	const auto end = std::chrono::steady_clock::now() + deadline;
	while (std::chrono::steady_clock::now() < end) {
		int status = 0;
		const pid_t done = ::waitpid(pid_, &status, WNOHANG);
		if (done == pid_) {
			pid_ = -1;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		std::this_thread::sleep_for(10ms);
	}
	return -1;
}

bool HostProcess::wait_for_socket(const std::filesystem::path &socket) const
{
	const auto end = std::chrono::steady_clock::now() + 60s;
	while (std::chrono::steady_clock::now() < end) {
		try {
			drpc::ClientConnection probe(socket);
			probe.connect();
			return true;
		} catch (const drpc::Error &) {
			std::this_thread::sleep_for(20ms);
		}
		int status = 0;
		if (::waitpid(pid_, &status, WNOHANG) == pid_)
			return false;
	}
	return false;
}

uint64_t HostProcess::resident_bytes() const
{
	std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
	uint64_t size = 0;
	uint64_t resident = 0;
	if (!(statm >> size >> resident))
		return 0;
	return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

} // namespace host_test
