// SPDX-License-Identifier: Apache-2.0
// The bench's server in a child process, stopped by SIGTERM.
#include "server_process.hpp"

#include "hello_module.hpp"
#include "seqpacket.hpp"

#include <drpc/log.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace drpc::bench {

ServerProcess::ServerProcess(ServerOptions options)
{
	const std::filesystem::path socket = options.socket_path;
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
	if (pid_ == 0) {
		sigset_t stop_signals;
		sigemptyset(&stop_signals);
		sigaddset(&stop_signals, SIGTERM);
		sigaddset(&stop_signals, SIGINT);
		pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
		int code = 1;
		try {
			DomainSocketServer server(options);
			server.register_module(std::make_shared<HelloModule>());
			server.start();
			int signal = 0;
			sigwait(&stop_signals, &signal);
			code = server.shutdown(std::chrono::seconds(10)) ? 0 : 1;
		} catch (const std::exception &e) {
			log::error("bench server", e.what());
		}
		::_exit(code);
	}
	for (int attempt = 0; attempt < 1000; ++attempt) {
		try {
			(void)connect_seqpacket(socket);
			return;
		} catch (const std::exception &) {
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		}
	}
	stop();
	throw std::runtime_error("the bench server did not start on " + socket.string());
}

ServerProcess::~ServerProcess() { stop(); }

int ServerProcess::stop() noexcept
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
