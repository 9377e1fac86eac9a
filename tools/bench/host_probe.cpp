// SPDX-License-Identifier: Apache-2.0
// Reading a server process's memory, threads and descriptors from /proc.
#include "host_probe.hpp"

#include "seqpacket.hpp"

#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>

namespace drpc::bench {

ProcessUsage process_usage(pid_t pid)
{
	const std::filesystem::path proc = "/proc/" + std::to_string(pid);
	std::ifstream status(proc / "status");
	if (!status)
		throw std::runtime_error("cannot read " + (proc / "status").string());
	ProcessUsage usage;
	std::string line;
	const auto kib = [&line](size_t prefix) { return std::stoul(line.substr(prefix)) * 1024; };
	while (std::getline(status, line)) {
		if (line.rfind("VmRSS:", 0) == 0)
			usage.rss_bytes = kib(6);
		else if (line.rfind("VmHWM:", 0) == 0)
			usage.peak_bytes = kib(6);
		else if (line.rfind("Threads:", 0) == 0)
			usage.threads = std::stoul(line.substr(8));
	}
	std::error_code error;
	for (auto it = std::filesystem::directory_iterator(proc / "fd", error);
	     !error && it != std::filesystem::directory_iterator(); it.increment(error))
		++usage.fds;
	if (error)
		throw std::runtime_error("cannot list " + (proc / "fd").string() + ": " + error.message());
	return usage;
}

pid_t server_pid(const std::filesystem::path &socket)
{
	const UniqueFd fd = connect_seqpacket(socket);
	ucred credentials{};
	socklen_t size = sizeof(credentials);
	if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0 || credentials.pid <= 0)
		throw std::runtime_error("cannot tell which process serves " + socket.string());
	return credentials.pid;
}

size_t raise_own_fd_limit() noexcept
{
	rlimit limit{};
	if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
		return 0;
	limit.rlim_cur = limit.rlim_max;
	(void)::setrlimit(RLIMIT_NOFILE, &limit);
	(void)::getrlimit(RLIMIT_NOFILE, &limit);
	return limit.rlim_cur;
}

} // namespace drpc::bench
