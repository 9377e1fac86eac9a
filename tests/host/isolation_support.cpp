// SPDX-License-Identifier: Apache-2.0
// The isolated-module tests' host process, listings, workers and bystander.
#include "isolation_support.hpp"

#include <drpc/client.hpp>

#include <csignal>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace isolation_test {
namespace {

constexpr int32_t admin_id = 0x7FFF0000;

std::string admin_call(const std::filesystem::path &socket, admin::Method method, const std::string &body)
{
	drpc::ClientConnection connection(socket, drpc::ClientOptions{.call_timeout = 30s});
	connection.connect();
	drpc::Call call;
	call.set_module(admin_id);
	call.set_method(method);
	call.set_body(body);
	const drpc::Response response = connection.send_msg(call);
	if (response.status() != drpc::Status::SUCCESS)
		throw std::runtime_error("admin call failed");
	return response.body();
}

admin::ListModulesResponse list(const std::filesystem::path &socket)
{
	admin::ListModulesResponse listing;
	listing.ParseFromString(admin_call(socket, admin::LIST_MODULES, ""));
	return listing;
}

} // namespace

std::filesystem::path fault_plugin(const std::string &name)
{
	return std::filesystem::path(DRPC_FAULT_PLUGIN_DIR) / (name + ".so");
}

IsolatedHost::IsolatedHost(const std::vector<std::filesystem::path> &plugins, const std::string &modules,
                           const std::string &plugin_keys)
	: plugins_(dir_ / "plugins"), socket_(dir_ / "host.sock"), log_(dir_ / "host.log")
{
	std::filesystem::create_directory(plugins_);
	::chmod(plugins_.c_str(), 0755);
	std::filesystem::create_directory(dir_ / "run");
	::chmod((dir_ / "run").c_str(), 0755);
	std::filesystem::copy_file(std::filesystem::path(DRPC_EXAMPLE_PLUGIN_DIR) / "echo.so", plugins_ / "echo.so");
	for (const std::filesystem::path &plugin : plugins)
		std::filesystem::copy_file(plugin, plugins_ / plugin.filename());
	const std::filesystem::path config = dir_ / "host.json";
	host_test::write_file(config, "{\"socket\": {\"path\": \"" + socket_.string() + "\"}, \"run_directory\": \"" +
	                                      (dir_ / "run").string() + "\", \"plugins\": {\"directory\": \"" +
	                                      plugins_.string() + "\"" + plugin_keys + "}, \"modules\": " + modules +
	                                      "}");
	process_ =
		std::make_unique<host_test::HostProcess>(std::vector<std::string>{"--config", config.string()}, log_);
	if (!process_->wait_for_socket(socket_))
		throw std::runtime_error("drpc-host did not start: " + log());
}

IsolatedHost::~IsolatedHost() = default;

bool IsolatedHost::alive() const
{
	try {
		(void)list(socket_);
		return true;
	} catch (const std::exception &) {
		return false;
	}
}

std::optional<admin::ModuleInfo> IsolatedHost::module(int32_t id) const
{
	const admin::ListModulesResponse listing = list(socket_);
	for (const admin::ModuleInfo &info : listing.modules()) {
		if (info.id() == id)
			return info;
	}
	return std::nullopt;
}

std::vector<admin::LoadFailure> IsolatedHost::failures() const
{
	const auto listing = list(socket_);
	return {listing.failures().begin(), listing.failures().end()};
}

admin::DescribeResponse IsolatedHost::describe(const std::string &name) const
{
	admin::DescribeRequest request;
	request.set_name(name);
	admin::DescribeResponse response;
	response.ParseFromString(admin_call(socket_, admin::DESCRIBE, request.SerializeAsString()));
	return response;
}

admin::ModuleOpResponse IsolatedHost::reload(int32_t id) const
{
	admin::ReloadRequest request;
	request.set_id(id);
	admin::ModuleOpResponse response;
	response.ParseFromString(admin_call(socket_, admin::RELOAD, request.SerializeAsString()));
	return response;
}

admin::ModuleOpResponse IsolatedHost::unload(int32_t id) const
{
	admin::UnloadRequest request;
	request.set_id(id);
	admin::ModuleOpResponse response;
	response.ParseFromString(admin_call(socket_, admin::UNLOAD, request.SerializeAsString()));
	return response;
}

std::string IsolatedHost::ctl_modules() const
{
	const std::string command = std::string(DRPC_CTL_PATH) + " --socket " + socket_.string() + " modules 2>&1";
	FILE *pipe = ::popen(command.c_str(), "r");
	if (pipe == nullptr)
		return {};
	std::string out;
	char buffer[4096];
	size_t got;
	while ((got = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0)
		out.append(buffer, got);
	::pclose(pipe);
	return out;
}

std::vector<pid_t> IsolatedHost::workers() const
{
	std::vector<pid_t> children;
	DIR *proc = ::opendir("/proc");
	if (proc == nullptr)
		return children;
	while (const dirent *entry = ::readdir(proc)) {
		const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));
		if (pid <= 0)
			continue;
		std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
		std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
		// pid (comm) state ppid ...: comm may hold spaces, so from the last ')'.
		const size_t close = text.rfind(')');
		if (close == std::string::npos)
			continue;
		std::istringstream rest(text.substr(close + 1));
		std::string state;
		pid_t parent = 0;
		rest >> state >> parent;
		if (parent == process_->pid() && state != "Z")
			children.push_back(pid);
	}
	::closedir(proc);
	return children;
}

size_t IsolatedHost::open_fds() const
{
	size_t count = 0;
	for ([[maybe_unused]] const auto &entry :
	     std::filesystem::directory_iterator("/proc/" + std::to_string(process_->pid()) + "/fd"))
		++count;
	return count;
}

std::string IsolatedHost::fd_targets() const
{
	std::string text;
	for (const auto &entry :
	     std::filesystem::directory_iterator("/proc/" + std::to_string(process_->pid()) + "/fd")) {
		std::error_code error;
		text += entry.path().filename().string() + "=" +
		        std::filesystem::read_symlink(entry.path(), error).string() + " ";
	}
	return text;
}

std::string IsolatedHost::log() const { return host_test::read_file(log_); }

int IsolatedHost::stop()
{
	process_->signal(SIGTERM);
	return process_->wait();
}

Bystander::Bystander(const std::filesystem::path &socket)
	: thread_([this, socket] {
		  drpc::ClientConnection connection(socket, drpc::ClientOptions{.call_timeout = 30s});
		  uint64_t n = 0;
		  while (!stop_.load()) {
			  const std::string body = "bystander " + std::to_string(++n);
			  try {
				  connection.connect();
				  drpc::Call call;
				  call.set_module(echo_id);
				  call.set_method(0);
				  call.set_body(body);
				  const drpc::Response response = connection.send_msg(call);
				  if (response.status() != drpc::Status::SUCCESS || response.body() != body)
					  ++lost_;
			  } catch (const std::exception &) {
				  ++lost_;
			  }
			  ++calls_;
			  std::this_thread::sleep_for(1ms);
		  }
	  })
{
}

Bystander::~Bystander() { (void)stop(); }

uint64_t Bystander::stop()
{
	stop_.store(true);
	if (thread_.joinable())
		thread_.join();
	return lost_.load();
}

std::string proc_status(pid_t pid, const std::string &key)
{
	std::ifstream status("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(status, line)) {
		if (line.starts_with(key + ":")) {
			const size_t value = line.find_first_not_of(" \t", key.size() + 1);
			return value == std::string::npos ? std::string() : line.substr(value);
		}
	}
	return {};
}

std::vector<std::string> fd_targets_of(pid_t pid)
{
	std::vector<std::string> targets;
	std::error_code error;
	for (const auto &entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error))
		targets.push_back(std::filesystem::read_symlink(entry.path(), error).string());
	return targets;
}

drpc::Status status_of(const std::filesystem::path &socket, int32_t module, int32_t method, const std::string &body)
{
	try {
		const drpc::Response response = host_test::call(socket, module, method, body);
		if (response.status() == drpc::Status::SUCCESS && method == 0 && response.body() != body)
			return drpc::Status::FAILURE; // an echo must answer its own body
		return response.status();
	} catch (const std::exception &) {
		return drpc::Status::FAILURE;
	}
}

} // namespace isolation_test
