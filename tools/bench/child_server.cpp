// SPDX-License-Identifier: Apache-2.0
// A bench server in a child process, stopped by SIGTERM.
#include "child_server.hpp"

#include "seqpacket.hpp"

#include <drpc/log.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace drpc::bench {

ChildServer::ChildServer(std::string what, const std::filesystem::path &socket, Serve serve)
{
	const pid_t parent = ::getpid();
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error(what + ": fork: " + std::strerror(errno));
	if (pid_ == 0) {
		sigset_t stop_signals;
		sigemptyset(&stop_signals);
		sigaddset(&stop_signals, SIGTERM);
		sigaddset(&stop_signals, SIGINT);
		pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
		// A bench killed mid-run leaves no server behind.
		if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent)
			::_exit(1);
		int code = 1;
		try {
			code = serve(stop_signals);
		} catch (const std::exception &e) {
			log::error("bench", what + ": " + e.what());
		} catch (...) {
			// Never unwinds into the parent's code, copied in this child.
			log::error("bench", what + ": a non-standard exception");
		}
		::_exit(code);
	}
	// 20 s: long enough for a drpc-host starting an isolated module's worker.
	for (int attempt = 0; attempt < 2000; ++attempt) {
		try {
			(void)connect_seqpacket(socket);
			return;
		} catch (const std::exception &) {
			int status = 0;
			if (::waitpid(pid_, &status, WNOHANG) == pid_) {
				pid_ = -1;
				throw std::runtime_error(
					what + " ended before it accepted on " + socket.string() + " (" +
					(WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
				                           : "signal " + std::to_string(WTERMSIG(status))) +
					"; its log is on stderr)");
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
	}
	stop();
	throw std::runtime_error(what + " did not start on " + socket.string());
}

ChildServer::~ChildServer() { stop(); }

int ChildServer::stop() noexcept
{
	if (pid_ > 0) {
		::kill(pid_, SIGTERM);
		int status = 0;
		while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
		}
		status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		pid_ = -1;
	}
	return status_;
}

} // namespace drpc::bench
