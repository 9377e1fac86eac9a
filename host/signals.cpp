// SPDX-License-Identifier: Apache-2.0
// The signalfd that turns SIGTERM and SIGINT into something to wait for.
#include "signals.hpp"

#include <drpc/error.hpp>

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace drpc::host {
namespace {

sigset_t shutdown_set()
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	return set;
}

} // namespace

ShutdownSignals::ShutdownSignals()
{
	const sigset_t set = shutdown_set();
	if (const int error = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); error != 0)
		throw drpc::SystemError("pthread_sigmask", error);
	fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC));
	if (!fd_.valid())
		throw drpc::SystemError("signalfd", errno);
}

ShutdownSignals::~ShutdownSignals()
{
	fd_.reset();
	const sigset_t set = shutdown_set();
	::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

std::optional<int> ShutdownSignals::wait(std::chrono::milliseconds timeout)
{
	pollfd ready{.fd = fd_.get(), .events = POLLIN, .revents = 0};
	for (;;) {
		const int count = ::poll(&ready, 1, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
		if (count < 0) {
			if (errno == EINTR)
				continue;
			throw drpc::SystemError("poll on the signalfd", errno);
		}
		if (count == 0)
			return std::nullopt;
		signalfd_siginfo info{};
		const ssize_t got = ::read(fd_.get(), &info, sizeof(info));
		if (got == static_cast<ssize_t>(sizeof(info)))
			return static_cast<int>(info.ssi_signo);
		if (got < 0 && errno != EINTR && errno != EAGAIN)
			throw drpc::SystemError("read from the signalfd", errno);
	}
}

} // namespace drpc::host
