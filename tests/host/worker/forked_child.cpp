// SPDX-License-Identifier: Apache-2.0
// A test body in a forked child, reporting back through a pipe.
#include "forked_child.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace worker_test {

namespace {

void write_all(int fd, const std::string &text) noexcept
{
	size_t done = 0;
	while (done < text.size()) {
		const ssize_t n = write(fd, text.data() + done, text.size() - done);
		if (n <= 0 && errno != EINTR)
			return;
		if (n > 0)
			done += static_cast<size_t>(n);
	}
}

} // namespace

ChildResult run_in_child(const std::function<std::string(int report_fd)> &body)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		throw std::system_error(errno, std::generic_category(), "pipe2");
	const pid_t pid = fork();
	if (pid == -1)
		throw std::system_error(errno, std::generic_category(), "fork");
	if (pid == 0) {
		(void)close(fds[0]);
		// doctest's crash handlers would report a fault the body expects as
		// this test's crash: the child dies of its signals as a worker would.
		for (const int signal : {SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE, SIGTERM, SIGINT})
			(void)std::signal(signal, SIG_DFL);
		int code = 0;
		std::string report;
		try {
			report = body(fds[1]);
		} catch (const std::exception &e) {
			report = std::string("exception: ") + e.what();
			code = 1;
		}
		write_all(fds[1], report);
		_exit(code);
	}
	(void)close(fds[1]);
	ChildResult result;
	char buffer[4096];
	for (;;) {
		pollfd ready{fds[0], POLLIN, 0};
		if (poll(&ready, 1, 60000) <= 0) {
			(void)kill(pid, SIGKILL);
			break;
		}
		const ssize_t n = read(fds[0], buffer, sizeof(buffer));
		if (n > 0)
			result.report.append(buffer, static_cast<size_t>(n));
		else if (n == 0 || errno != EINTR)
			break;
	}
	(void)close(fds[0]);
	while (waitpid(pid, &result.status, 0) == -1 && errno == EINTR) {
	}
	return result;
}

std::string describe_status(int status)
{
	if (WIFEXITED(status))
		return "exited " + std::to_string(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return "killed by signal " + std::to_string(WTERMSIG(status));
	return "status " + std::to_string(status);
}

} // namespace worker_test
