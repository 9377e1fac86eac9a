// SPDX-License-Identifier: Apache-2.0
// A forked helper process for tests, driven over two pipes.
#include "child_process.hpp"

#include <drpc/error.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test {

ChildProcess::ChildProcess(std::function<std::string()> body, std::optional<uid_t> uid)
{
	int down[2];
	int up[2];
	if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0)
		throw drpc::SystemError("test pipe", errno);
	pid_ = ::fork();
	if (pid_ < 0)
		throw drpc::SystemError("test fork", errno);
	if (pid_ == 0) {
		::close(down[1]);
		::close(up[0]);
		char byte;
		if (::read(down[0], &byte, 1) != 1)
			::_exit(90);
		if (uid && (::setgid(*uid) != 0 || ::setuid(*uid) != 0))
			::_exit(91);
		std::string report;
		try {
			report = body();
		} catch (const std::exception &e) {
			report = std::string("exception: ") + e.what();
		}
		report += '\n';
		(void)!::write(up[1], report.data(), report.size());
		(void)!::read(down[0], &byte, 1);
		::_exit(0);
	}
	::close(down[0]);
	::close(up[1]);
	to_child_ = down[1];
	from_child_ = up[0];
}

ChildProcess::~ChildProcess()
{
	if (pid_ > 0) {
		::kill(pid_, SIGKILL);
		::waitpid(pid_, nullptr, 0);
	}
	if (to_child_ >= 0)
		::close(to_child_);
	if (from_child_ >= 0)
		::close(from_child_);
}

std::string ChildProcess::go()
{
	(void)!::write(to_child_, "g", 1);
	std::string report;
	char byte;
	for (;;) {
		// Bounded, so that a stuck child fails the test instead of hanging it.
		pollfd pfd{from_child_, POLLIN, 0};
		if (::poll(&pfd, 1, 60000) != 1 || ::read(from_child_, &byte, 1) != 1 || byte == '\n')
			break;
		report += byte;
	}
	return report;
}

int ChildProcess::finish()
{
	(void)!::write(to_child_, "x", 1);
	int status = 0;
	::waitpid(pid_, &status, 0);
	pid_ = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::optional<uid_t> test_user(const std::string &name)
{
	if (::geteuid() != 0)
		return std::nullopt;
	if (const passwd *entry = ::getpwnam(name.c_str()))
		return entry->pw_uid;
	const std::string command =
		"useradd --system --no-create-home --shell /usr/sbin/nologin " + name + " >/dev/null 2>&1";
	if (std::system(command.c_str()) != 0)
		return std::nullopt;
	if (const passwd *entry = ::getpwnam(name.c_str()))
		return entry->pw_uid;
	return std::nullopt;
}

} // namespace test
