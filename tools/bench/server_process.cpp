// SPDX-License-Identifier: Apache-2.0
// The bench's server in a child process, stopped by SIGTERM.
#include "server_process.hpp"

#include "hello_module.hpp"

#include <chrono>

namespace drpc::bench {

ServerProcess::ServerProcess(ServerOptions options)
	: child_("the bench server", options.socket_path, [options](const sigset_t &stop_signals) {
		  DomainSocketServer server(options);
		  server.register_module(std::make_shared<HelloModule>());
		  server.start();
		  int signal = 0;
		  sigwait(&stop_signals, &signal);
		  return server.shutdown(std::chrono::seconds(10)) ? 0 : 1;
	  })
{
}

} // namespace drpc::bench
