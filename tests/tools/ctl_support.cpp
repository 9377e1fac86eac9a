// SPDX-License-Identifier: Apache-2.0
// Runs drpc-ctl as a child process and serves it from test modules.

#include "ctl_support.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

#ifndef DRPC_CTL_PATH
#error "DRPC_CTL_PATH must name the built drpc-ctl"
#endif

extern char **environ;

namespace ctl_test {

namespace {

constexpr auto child_deadline = std::chrono::seconds(60);

[[noreturn]] void fail(const std::string &what) { throw std::system_error(errno, std::generic_category(), what); }

std::vector<std::string> child_environment(const std::optional<std::string> &socket_env)
{
	std::vector<std::string> env;
	for (char **entry = environ; *entry != nullptr; ++entry) {
		if (std::strncmp(*entry, "DRPC_SOCKET=", 12) != 0)
			env.emplace_back(*entry);
	}
	if (socket_env)
		env.push_back("DRPC_SOCKET=" + *socket_env);
	return env;
}

std::vector<char *> pointers(std::vector<std::string> &strings)
{
	std::vector<char *> result;
	for (std::string &s : strings)
		result.push_back(s.data());
	result.push_back(nullptr);
	return result;
}

/// Reads both pipes to their end, or until the deadline; false on timeout.
bool drain(int out_fd, int err_fd, Run &run)
{
	const auto deadline = std::chrono::steady_clock::now() + child_deadline;
	std::array<pollfd, 2> fds{{{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}}};
	std::array<std::string *, 2> sinks{&run.out, &run.err};
	int open = 2;
	while (open > 0) {
		const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now());
		if (left.count() <= 0)
			return false;
		if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0) {
			if (errno == EINTR)
				continue;
			fail("poll");
		}
		for (size_t i = 0; i < fds.size(); ++i) {
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			char buffer[4096];
			const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
			if (n > 0) {
				sinks[i]->append(buffer, static_cast<size_t>(n));
			} else if (n == 0 || errno != EINTR) {
				fds[i].fd = -1;
				--open;
			}
		}
	}
	return true;
}

} // namespace

Run run_ctl(const std::vector<std::string> &args, const std::optional<std::string> &socket_env)
{
	std::vector<std::string> argv_strings{DRPC_CTL_PATH};
	argv_strings.insert(argv_strings.end(), args.begin(), args.end());
	std::vector<std::string> env_strings = child_environment(socket_env);
	std::vector<char *> argv = pointers(argv_strings);
	std::vector<char *> envp = pointers(env_strings);

	int out_pipe[2];
	int err_pipe[2];
	if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
		fail("pipe2");
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
	pid_t pid = 0;
	const int spawned = posix_spawn(&pid, DRPC_CTL_PATH, &actions, nullptr, argv.data(), envp.data());
	posix_spawn_file_actions_destroy(&actions);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (spawned != 0) {
		close(out_pipe[0]);
		close(err_pipe[0]);
		errno = spawned;
		fail("posix_spawn " DRPC_CTL_PATH);
	}

	Run run;
	const bool finished = drain(out_pipe[0], err_pipe[0], run);
	close(out_pipe[0]);
	close(err_pipe[0]);
	if (!finished)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (finished && WIFEXITED(status))
		run.exit_code = WEXITSTATUS(status);
	return run;
}

drpc::Status HelloModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                      drpc::ResponseBody &out)
{
	if (context.method != 0)
		return drpc::Status::UNKNOWN_METHOD;
	// hello.Hello is one optional string field 1: nothing, or 0x0a, a one-byte length, the name.
	std::string name;
	if (!body.empty()) {
		if (body.size() < 2 || body[0] != 0x0a || body[1] >= 100 || body.size() != 2u + body[1])
			return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;
		name.assign(reinterpret_cast<const char *>(body.data()) + 2, body[1]);
	}
	const std::string greeting = "Hello " + name;
	std::string response{'\x0a', static_cast<char>(greeting.size())};
	response += greeting;
	return out.assign(response) ? drpc::Status::SUCCESS : drpc::Status::FAILED_MARSHAL;
}

drpc::Status EchoModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                     drpc::ResponseBody &out)
{
	if (context.method != 0)
		return drpc::Status::UNKNOWN_METHOD;
	const std::string_view bytes(reinterpret_cast<const char *>(body.data()), body.size());
	return out.assign(bytes) ? drpc::Status::SUCCESS : drpc::Status::FAILED_MARSHAL;
}

} // namespace ctl_test
