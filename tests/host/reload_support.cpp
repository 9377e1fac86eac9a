// SPDX-License-Identifier: Apache-2.0
// Helpers for the hot-reload tests.
#include "reload_support.hpp"

#include <doctest/doctest.h>

#include <drpc/client.hpp>
#include <drpc/error.hpp>
#include <drpc/status.hpp>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef DRPC_STORM_PLUGIN_DIR
#error "DRPC_STORM_PLUGIN_DIR must name the build directory of storm_a.so and storm_b.so"
#endif
#ifndef DRPC_EXAMPLE_PLUGIN_DIR
#error "DRPC_EXAMPLE_PLUGIN_DIR must name the build directory of the example plugins"
#endif

namespace reload_test {
namespace {

using namespace std::chrono_literals;

std::runtime_error errno_error(const std::string &what, int error)
{
	return std::runtime_error(what + ": " + std::strerror(error));
}

} // namespace

std::filesystem::path storm_plugin(char build)
{
	return std::filesystem::path(DRPC_STORM_PLUGIN_DIR) /
	       (std::string("storm_") + static_cast<char>(std::tolower(build)) + ".so");
}

std::filesystem::path example_plugin(const std::string &name)
{
	return std::filesystem::path(DRPC_EXAMPLE_PLUGIN_DIR) / (name + ".so");
}

HostDirs::HostDirs()
{
	for (const auto &made : {plugins, staging}) {
		std::filesystem::create_directory(made);
		std::filesystem::permissions(made, std::filesystem::perms(0755));
	}
}

drpc::host::HostConfig HostDirs::config(bool watch, uint64_t drain_timeout_ms) const
{
	drpc::host::HostConfig config;
	config.socket.path = socket;
	config.plugins.directory = plugins;
	config.plugins.watch = watch;
	if (drain_timeout_ms != 0)
		config.plugins.drain_timeout_ms = drain_timeout_ms;
	config.server.shutdown_timeout_ms = 10000;
	return config;
}

QuietFd::QuietFd() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
	if (fd_ < 0)
		throw errno_error("eventfd", errno);
}

QuietFd::~QuietFd() { ::close(fd_); }

bool pump_until(drpc::host::Host &host, const std::function<bool()> &done, std::chrono::milliseconds limit)
{
	const QuietFd quiet;
	const auto deadline = std::chrono::steady_clock::now() + limit;
	while (!done()) {
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		(void)host.run_once(quiet.get(), 10ms);
	}
	return true;
}

void pump_for(drpc::host::Host &host, std::chrono::milliseconds duration)
{
	const QuietFd quiet;
	const auto end = std::chrono::steady_clock::now() + duration;
	while (std::chrono::steady_clock::now() < end)
		(void)host.run_once(quiet.get(), 10ms);
}

EventLoop::EventLoop(drpc::host::Host &host)
{
	thread_ = std::thread([this, &host] {
		try {
			while (!stop_.load())
				(void)host.run_once(quiet_.get(), 10ms);
		} catch (const std::exception &e) {
			const std::lock_guard lock(mutex_);
			error_ = e.what();
		}
	});
}

EventLoop::~EventLoop()
{
	stop_.store(true);
	thread_.join();
}

std::string EventLoop::error() const
{
	const std::lock_guard lock(mutex_);
	return error_;
}

void write_bytes(const std::filesystem::path &target, const std::string &bytes)
{
	const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0)
		throw errno_error("open " + target.string(), errno);
	for (size_t done = 0; done < bytes.size();) {
		const ssize_t put = ::write(fd, bytes.data() + done, bytes.size() - done);
		if (put < 0) {
			const int error = errno;
			::close(fd);
			throw errno_error("write " + target.string(), error);
		}
		done += static_cast<size_t>(put);
	}
	if (::close(fd) != 0)
		throw errno_error("close " + target.string(), errno);
}

void install_by_rename(const std::filesystem::path &from, const std::filesystem::path &dir, const std::string &name)
{
	const std::filesystem::path temporary = dir / ("." + name + ".tmp");
	write_bytes(temporary, host_test::read_file(from));
	std::filesystem::rename(temporary, dir / name);
}

void run_storm_client(const std::filesystem::path &socket, int index, const std::atomic<bool> &stop, Tally &tally)
{
	using namespace std::chrono_literals;
	try {
		drpc::ClientConnection connection(socket, drpc::ClientOptions{.call_timeout = 30s});
		connection.connect();
		drpc::Call request;
		request.set_module(storm_id);
		request.set_method(storm_echo_method);
		while (!stop.load()) {
			const std::string body = std::to_string(index) + ":" + std::to_string(tally.calls);
			request.set_body(body);
			const drpc::Response response = connection.send_msg(request);
			++tally.calls;
			const std::string &answer = response.body();
			if (response.status() != drpc::Status::SUCCESS)
				tally.fail("call " + body + " answered " + drpc::to_string(response.status()));
			else if (answer.size() != body.size() + 1 || (answer[0] != 'A' && answer[0] != 'B') ||
			         answer.compare(1, std::string::npos, body) != 0)
				tally.fail("call " + body + " answered '" + answer + "'");
		}
	} catch (const std::exception &e) {
		tally.fail(std::string("client ") + std::to_string(index) + ": " + e.what());
	}
}

std::string storm_answer(const std::filesystem::path &socket)
{
	try {
		const drpc::Response response = call(socket, storm_id, storm_echo_method, "");
		if (response.status() != drpc::Status::SUCCESS)
			return drpc::to_string(response.status());
		return response.body();
	} catch (const drpc::Error &e) {
		return std::string("error: ") + e.what();
	}
}

std::optional<drpc::host::ModuleRecord> listed(drpc::host::Host &host, int32_t id, drpc::host::ModuleState state)
{
	for (const drpc::host::ModuleRecord &status : host.plugins().list()) {
		if (status.id == id && status.state == state)
			return status;
	}
	return std::nullopt;
}

std::set<std::string> mapped_under(const std::filesystem::path &dir)
{
	const std::string prefix = dir.string() + "/";
	const std::string deleted = " (deleted)";
	std::set<std::string> files;
	std::ifstream maps("/proc/self/maps");
	for (std::string line; std::getline(maps, line);) {
		const size_t path = line.find(prefix);
		if (path == std::string::npos)
			continue;
		std::string file = line.substr(path);
		if (file.size() > deleted.size() && file.ends_with(deleted))
			file.resize(file.size() - deleted.size());
		files.insert(file);
	}
	return files;
}

size_t open_fd_count()
{
	size_t count = 0;
	for ([[maybe_unused]] const auto &entry : std::filesystem::directory_iterator("/proc/self/fd"))
		++count;
	return count; // the iterator's own descriptor is counted every time alike
}

size_t entry_count(const std::filesystem::path &dir)
{
	size_t count = 0;
	for ([[maybe_unused]] const auto &entry : std::filesystem::directory_iterator(dir))
		++count;
	return count;
}

size_t count_lines(const host_test::LogCapture &log, std::initializer_list<std::string> parts)
{
	size_t count = 0;
	for (const std::string &line : log.lines()) {
		bool all = true;
		for (const std::string &part : parts)
			all = all && line.find(part) != std::string::npos;
		count += all ? 1 : 0;
	}
	return count;
}

bool wait_for_sleeping_threads(size_t count, std::chrono::milliseconds limit)
{
	const auto deadline = std::chrono::steady_clock::now() + limit;
	for (;;) {
		size_t sleeping = 0;
		size_t readable = 0;
		for (const auto &task : std::filesystem::directory_iterator("/proc/self/task")) {
			std::ifstream syscall_file(task.path() / "syscall");
			long number = -1;
			if (!(syscall_file >> number))
				continue;
			++readable;
			if (number == SYS_clock_nanosleep || number == SYS_nanosleep)
				++sleeping;
		}
		if (readable == 0) {
			// /proc does not say what threads are doing: give the calls a moment.
			std::this_thread::sleep_for(300ms);
			return true;
		}
		if (sleeping >= count)
			return true;
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(2ms);
	}
}

int storm_reloads(const std::filesystem::path &plugins, const std::filesystem::path &socket,
                  const std::array<std::string, 2> &builds, int count)
{
	const std::filesystem::path temporary = plugins / ".storm.so.tmp";
	for (int round = 1; round <= count; ++round) {
		const int build = round % 2; // B, A, B, ...
		const std::string letter(1, build == 0 ? 'A' : 'B');
		write_bytes(temporary, builds[build]);
		std::filesystem::rename(temporary, plugins / "storm.so");
		if (!eventually([&] { return storm_answer(socket) == letter; }, 30s)) {
			FAIL_CHECK("reload " << round << " to build " << letter << " was never served");
			return round - 1;
		}
	}
	return count;
}

} // namespace reload_test
