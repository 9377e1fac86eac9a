// SPDX-License-Identifier: Apache-2.0
// enter_sandbox() in forked children: what it denies (exec, sockets, tracing,
// namespaces, writes outside read_write) and what a worker still needs (reads
// under /usr, its own files, threads, fork, mapping a plugin from an open
// descriptor, a dRPC server on an inherited listening socket).
#include "forked_child.hpp"

#include <landlock_rules.hpp>
#include <sandbox.hpp>
#include <temp_dir.hpp>

#include <drpc/client.hpp>
#include <drpc/plugin.h>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using drpc::host::worker::enter_sandbox;
using drpc::host::worker::SandboxPolicy;
using worker_test::describe_status;
using worker_test::run_in_child;
namespace fs = std::filesystem;

namespace {

std::string error_of(int rc) { return rc >= 0 ? std::string("ok") : std::strerror(errno); }

/// A temporary tree: ro/ (readable), rw/ (writable) and a file beside them.
struct Tree {
	test_support::TempDir dir;
	SandboxPolicy policy{{dir / "ro"}, {dir / "rw"}, {}};

	Tree()
	{
		fs::create_directories(dir / "ro");
		fs::create_directories(dir / "rw");
		std::ofstream(dir / "ro" / "data") << "read me";
		std::ofstream(dir / "outside") << "untouched";
	}
};

bool have_landlock() { return drpc::host::worker::landlock_abi() > 0; }

/// The body's report after entering the sandbox, or what stopped it.
std::string sandboxed(const SandboxPolicy &policy, const std::function<std::string()> &body)
{
	const auto result = run_in_child([&](int) {
		(void)enter_sandbox(policy);
		return body();
	});
	return result.report + (WIFEXITED(result.status) && WEXITSTATUS(result.status) <= 1
	                                ? ""
	                                : " (" + describe_status(result.status) + ")");
}

class Echo : public drpc::Module {
public:
	[[nodiscard]] int32_t id() const noexcept override { return 77; }
	drpc::Status handle_call(const drpc::CallContext &, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override
	{
		return out.assign(std::string_view(reinterpret_cast<const char *>(body.data()), body.size()))
		               ? drpc::Status::SUCCESS
		               : drpc::Status::FAILED_MARSHAL;
	}
};

} // namespace

TEST_CASE("sandbox: available exactly when built with libseccomp, refused loudly otherwise")
{
	CHECK(drpc::host::worker::sandbox_available() == (DRPC_TEST_HAVE_SECCOMP != 0));
	if (!drpc::host::worker::sandbox_available()) {
		const auto result = run_in_child([](int) { return enter_sandbox(SandboxPolicy{}); });
		CHECK(result.report.find("this build has no libseccomp") != std::string::npos);
	}
}

TEST_CASE("sandbox: the log line says what was applied" * doctest::skip(!drpc::host::worker::sandbox_available()))
{
	Tree tree;
	const auto result = run_in_child([&](int) { return enter_sandbox(tree.policy); });
	CHECK(describe_status(result.status) == "exited 0");
	CHECK(result.report.starts_with("sandbox: seccomp: "));
	if (have_landlock())
		CHECK(result.report.find("Landlock ABI ") != std::string::npos);
	else
		CHECK(result.report.find("Landlock unavailable: ") != std::string::npos);
	MESSAGE(result.report);
}

TEST_CASE("sandbox: denied with EPERM, the worker lives on" * doctest::skip(!drpc::host::worker::sandbox_available()))
{
	Tree tree;
	struct Case {
		const char *name;
		std::function<std::string()> attempt;
	};
	const Case cases[] = {
		{"execve", [] { return error_of(execl("/bin/true", "true", nullptr)); }},
		{"execveat",
	         [] {
			 const char *argv[] = {"true", nullptr};
			 return error_of(
				 static_cast<int>(syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, nullptr, 0)));
		 }},
		{"socket", [] { return error_of(socket(AF_UNIX, SOCK_SEQPACKET, 0)); }},
		{"socket, inet", [] { return error_of(socket(AF_INET, SOCK_STREAM, 0)); }},
		{"socketpair",
	         [] {
			 int fds[2];
			 return error_of(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
		 }},
		{"ptrace", [] { return error_of(static_cast<int>(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr))); }},
		{"process_vm_readv",
	         [] {
			 return error_of(
				 static_cast<int>(syscall(SYS_process_vm_readv, getppid(), nullptr, 0, nullptr, 0, 0)));
		 }},
		{"unshare a user namespace", [] { return error_of(unshare(CLONE_NEWUSER)); }},
		{"mount", [] { return error_of(mount("none", "/tmp", "tmpfs", 0, nullptr)); }},
		{"keyctl", [] { return error_of(static_cast<int>(syscall(SYS_keyctl, 0, 0, 0, 0, 0))); }},
		{"bpf", [] { return error_of(static_cast<int>(syscall(SYS_bpf, 0, nullptr, 0))); }},
		{"perf_event_open",
	         [] { return error_of(static_cast<int>(syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0))); }},
		{"io_uring_setup", [] { return error_of(static_cast<int>(syscall(SYS_io_uring_setup, 1, nullptr))); }},
		{"clone with a namespace flag",
	         [] {
			 return error_of(static_cast<int>(
				 syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, nullptr, nullptr, nullptr, 0)));
		 }},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name) { CHECK(sandboxed(tree.policy, c.attempt) == std::strerror(EPERM)); }
	}
}

TEST_CASE("sandbox: clone3 answers ENOSYS, so the C library falls back to clone" *
          doctest::skip(!drpc::host::worker::sandbox_available()))
{
	Tree tree;
	CHECK(sandboxed(tree.policy, [] { return error_of(static_cast<int>(syscall(SYS_clone3, nullptr, 0))); }) ==
	      std::strerror(ENOSYS));
}

TEST_CASE("sandbox: what a worker still does" * doctest::skip(!drpc::host::worker::sandbox_available()))
{
	Tree tree;
	SUBCASE("start a thread")
	{
		CHECK(sandboxed(tree.policy, [] {
			      int answer = 0;
			      std::thread([&] { answer = 42; }).join();
			      return std::to_string(answer);
		      }) == "42");
	}
	SUBCASE("fork")
	{
		CHECK(sandboxed(tree.policy, [] {
			      const pid_t pid = fork();
			      if (pid == 0)
				      _exit(7);
			      int status = 0;
			      waitpid(pid, &status, 0);
			      return describe_status(status);
		      }) == "exited 7");
	}
	SUBCASE("read under /usr")
	{
		CHECK(sandboxed(tree.policy, [] {
			      DIR *dir = opendir("/usr/lib");
			      const bool listed = dir != nullptr && readdir(dir) != nullptr;
			      if (dir != nullptr)
				      closedir(dir);
			      std::ifstream os("/usr/lib/os-release");
			      std::string line;
			      return std::string(listed ? "listed" : "not listed") +
			             (std::getline(os, line) && !line.empty() ? " read" : " not read");
		      }) == "listed read");
	}
	SUBCASE("read under read_only")
	{
		CHECK(sandboxed(tree.policy, [&] {
			      std::ifstream in(tree.dir / "ro" / "data");
			      std::string text;
			      std::getline(in, text);
			      return text;
		      }) == "read me");
	}
	SUBCASE("write, create and remove under read_write")
	{
		CHECK(sandboxed(tree.policy, [&] {
			      const fs::path file = tree.dir / "rw" / "sub" / "out";
			      fs::create_directories(file.parent_path());
			      std::ofstream(file) << "written";
			      std::ifstream in(file);
			      std::string text;
			      std::getline(in, text);
			      fs::remove(file);
			      return text + (fs::exists(file) ? " kept" : " removed");
		      }) == "written removed");
		CHECK_FALSE(fs::exists(tree.dir / "rw" / "sub" / "out"));
	}
	SUBCASE("map a plugin from a descriptor opened before, listed in read_only_fds")
	{
		const int plugin = open(DRPC_TEST_PLUGIN_DIR "/good.so", O_RDONLY | O_CLOEXEC);
		REQUIRE(plugin >= 0);
		const auto map_plugin = [&] {
			const std::string path = "/proc/self/fd/" + std::to_string(plugin);
			void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
			if (library == nullptr)
				return std::string("dlopen failed: ") + std::strerror(errno);
			const auto entry =
				reinterpret_cast<drpc_plugin_entry_fn>(dlsym(library, DRPC_PLUGIN_ENTRY_SYMBOL));
			return entry == nullptr ? std::string("no entry") : std::to_string(entry()->info->module_id);
		};
		SandboxPolicy with_fd = tree.policy;
		with_fd.read_only_fds = {plugin};
		CHECK(sandboxed(with_fd, map_plugin) == "4242");
		if (have_landlock()) // the file's real path is covered by no other rule
			CHECK(sandboxed(tree.policy, map_plugin).starts_with("dlopen failed"));
		(void)close(plugin);
	}
}

TEST_CASE("sandbox: writes outside read_write are refused (Landlock)" *
          doctest::skip(!drpc::host::worker::sandbox_available()))
{
	if (!have_landlock()) {
		MESSAGE("this kernel has no Landlock: file confinement not tested");
		return;
	}
	Tree tree;
	struct Case {
		const char *name;
		fs::path path;
		int flags;
	};
	const Case cases[] = {
		{"a new file beside the tree", tree.dir / "new", O_WRONLY | O_CREAT},
		{"an existing file outside", tree.dir / "outside", O_WRONLY},
		{"a file under read_only", tree.dir / "ro" / "data", O_RDWR},
		{"a new file under read_only", tree.dir / "ro" / "new", O_WRONLY | O_CREAT},
		{"a file under /tmp", "/tmp/drpc-sandbox-test-" + std::to_string(getpid()), O_WRONLY | O_CREAT},
		{"reading outside the allowed paths", tree.dir / "outside", O_RDONLY},
		{"reading /etc/passwd", "/etc/passwd", O_RDONLY},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			CHECK(sandboxed(tree.policy, [&] {
				      return error_of(open(c.path.c_str(), c.flags | O_CLOEXEC, 0600));
			      }) == std::strerror(EACCES));
		}
	}
	SUBCASE("truncate outside, where the ABI handles it")
	{
		if (drpc::host::worker::landlock_abi() < 3)
			return;
		CHECK(sandboxed(tree.policy, [&] { return error_of(truncate((tree.dir / "outside").c_str(), 0)); }) ==
		      std::strerror(EACCES));
	}
	CHECK_FALSE(fs::exists(tree.dir / "new"));
	CHECK(fs::file_size(tree.dir / "outside") == 9);
}

TEST_CASE("sandbox: refusals" * doctest::skip(!drpc::host::worker::sandbox_available()))
{
	Tree tree;
	SUBCASE("a policy path that does not exist")
	{
		tree.policy.read_write.push_back(tree.dir / "missing");
		CHECK(sandboxed(tree.policy, [] { return std::string("entered"); }) ==
		      "exception: sandbox: path " + (tree.dir / "missing").string() + " does not exist");
	}
	SUBCASE("a process with a second thread")
	{
		const auto result = run_in_child([&](int) {
			std::atomic<bool> stop{false};
			std::thread other([&] {
				while (!stop)
					usleep(1000);
			});
			std::string report;
			try {
				(void)enter_sandbox(tree.policy);
				report = "entered";
			} catch (const std::exception &e) {
				report = e.what();
			}
			stop = true;
			other.join();
			return report;
		});
		CHECK(result.report == "sandbox: entered with 2 threads; Landlock would confine only the calling one");
	}
}

TEST_CASE("sandbox: a dRPC server accepting on an inherited listening socket serves a call" *
          doctest::skip(!drpc::host::worker::sandbox_available()))
{
	test_support::TempDir dir;
	const fs::path socket_path = dir / "worker.sock";
	const int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	REQUIRE(listener >= 0);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
	REQUIRE(bind(listener, reinterpret_cast<const sockaddr *>(&address), sizeof(address)) == 0);
	REQUIRE(listen(listener, 16) == 0);
	int ready[2];
	int done[2];
	REQUIRE(pipe2(ready, O_CLOEXEC) == 0);
	REQUIRE(pipe2(done, O_CLOEXEC) == 0);

	worker_test::ChildResult result;
	std::thread child([&] {
		result = run_in_child([&](int) {
			const std::string log = enter_sandbox(SandboxPolicy{});
			drpc::ServerOptions options;
			options.socket_path = socket_path;
			options.listen_fd = listener;
			// Never shut down: with an adopted listener, shutdown() wakes accept()
			// by connecting to it from a new socket, which the sandbox denies. A
			// worker ends with _exit() instead, as this child does.
			auto *server = new drpc::DomainSocketServer(options);
			server->register_module(std::make_shared<Echo>());
			server->start();
			(void)write(ready[1], "r", 1);
			char byte = 0;
			(void)read(done[0], &byte, 1);
			return log.substr(0, 17) + " served " + std::to_string(server->stats().calls_served);
		});
	});
	char byte = 0;
	REQUIRE(read(ready[0], &byte, 1) == 1);
	std::string answer;
	try {
		drpc::ClientConnection client(socket_path);
		client.connect();
		drpc::Call call;
		call.set_module(77);
		call.set_method(1);
		call.set_body("through the sandbox");
		const drpc::Response response = client.send_msg(call);
		answer = response.status() == drpc::Status::SUCCESS ? response.body()
		                                                    : "status " + std::to_string(response.status());
	} catch (const std::exception &e) {
		answer = e.what();
	}
	(void)write(done[1], "d", 1);
	child.join();
	CHECK(answer == "through the sandbox");
	CHECK(result.report == "sandbox: seccomp: served 1");
	CHECK(describe_status(result.status) == "exited 0");
	for (const int fd : {listener, ready[0], ready[1], done[0], done[1]})
		(void)close(fd);
}
