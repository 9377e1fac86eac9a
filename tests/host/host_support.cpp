// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the host's tests.
#include "host_support.hpp"

#include <drpc/client.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef DRPC_TEST_PLUGIN_DIR
#error "DRPC_TEST_PLUGIN_DIR must name the build directory of the test plugins"
#endif

namespace host_test {

std::filesystem::path test_plugin(const std::string &name)
{
	return std::filesystem::path(DRPC_TEST_PLUGIN_DIR) / (name + ".so");
}

std::filesystem::path install_plugin(const std::filesystem::path &dir, const std::string &name, std::string file_name)
{
	const std::filesystem::path target = dir / (file_name.empty() ? name + ".so" : file_name);
	std::filesystem::copy_file(test_plugin(name), target, std::filesystem::copy_options::overwrite_existing);
	std::filesystem::permissions(target, std::filesystem::perms(0755));
	return target;
}

void write_file(const std::filesystem::path &path, const std::string &contents)
{
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	out << contents;
	if (!out)
		throw std::runtime_error("cannot write " + path.string());
}

drpc::Response call(const std::filesystem::path &socket, int32_t module, int32_t method, const std::string &body)
{
	using namespace std::chrono_literals;
	drpc::ClientConnection connection(socket, drpc::ClientOptions{.call_timeout = 30s});
	connection.connect();
	drpc::Call request;
	request.set_module(module);
	request.set_method(method);
	request.set_body(body);
	return connection.send_msg(request);
}

bool eventually(const std::function<bool()> &done, std::chrono::milliseconds limit)
{
	const auto deadline = std::chrono::steady_clock::now() + limit;
	while (!done()) {
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	return true;
}

LogCapture::LogCapture(drpc::log::Level level) : previous_(drpc::log::level())
{
	drpc::log::set_level(level);
	drpc::log::set_sink([this](std::string_view line) {
		const std::lock_guard lock(mutex_);
		lines_.emplace_back(line);
	});
}

LogCapture::~LogCapture()
{
	drpc::log::set_sink({});
	drpc::log::set_level(previous_);
}

std::vector<std::string> LogCapture::lines() const
{
	const std::lock_guard lock(mutex_);
	return lines_;
}

std::string LogCapture::find(std::initializer_list<std::string> parts) const
{
	for (const std::string &line : lines()) {
		bool all = true;
		for (const std::string &part : parts)
			all = all && line.find(part) != std::string::npos;
		if (all)
			return line;
	}
	return {};
}

} // namespace host_test
