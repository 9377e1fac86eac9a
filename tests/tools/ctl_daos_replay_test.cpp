// SPDX-License-Identifier: Apache-2.0
// drpc-ctl against DAOS's own bytes. DAOS's Go hello server cannot run here,
// so a replay server stands in for it: it expects, record for record, what
// DAOS's Go client sent (shared/wire-vectors) and answers with what DAOS's
// Go server answered. drpc-ctl passes only if it sends DAOS's bytes and reads
// DAOS's answer with DAOS's hello.proto.
#include "ctl_support.hpp"
#include "test_files.hpp"

#include <drpc/unique_fd.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <vector>

using ctl_test::run_ctl;

#ifndef DRPC_TEST_DAOS_PROTO_DIR
#error "DRPC_TEST_DAOS_PROTO_DIR must name the directory of DAOS's hello.proto"
#endif

namespace {

const std::string daos_dir = DRPC_TEST_DAOS_PROTO_DIR;

/// Serves one connection: reads as many records as `expected` holds, then,
/// if each was byte for byte the expected one, sends `answer`.
class ReplayServer {
public:
	ReplayServer(std::vector<std::string> expected, std::vector<std::string> answer)
		: expected_(std::move(expected)), answer_(std::move(answer))
	{
		listener_ = drpc::UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
		REQUIRE(listener_.valid());
		sockaddr_un address{};
		address.sun_family = AF_UNIX;
		REQUIRE(socket_.size() < sizeof(address.sun_path));
		socket_.copy(address.sun_path, socket_.size());
		REQUIRE(::bind(listener_.get(), reinterpret_cast<const sockaddr *>(&address), sizeof(address)) == 0);
		REQUIRE(::listen(listener_.get(), 1) == 0);
		thread_ = std::thread([this] { serve(); });
	}
	~ReplayServer()
	{
		if (thread_.joinable())
			thread_.join();
	}

	[[nodiscard]] const std::string &socket() const noexcept { return socket_; }
	/// Empty when every record matched; else which one differed and how.
	[[nodiscard]] std::string mismatch()
	{
		if (thread_.joinable())
			thread_.join();
		return mismatch_;
	}

private:
	void serve()
	{
		pollfd ready{.fd = listener_.get(), .events = POLLIN, .revents = 0};
		if (::poll(&ready, 1, 30000) != 1) {
			mismatch_ = "drpc-ctl never connected";
			return;
		}
		const drpc::UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
		if (!connection.valid()) {
			mismatch_ = "accept failed";
			return;
		}
		std::string record(1 << 18, '\0');
		for (size_t i = 0; i < expected_.size(); ++i) {
			pollfd in{.fd = connection.get(), .events = POLLIN, .revents = 0};
			const ssize_t got = ::poll(&in, 1, 30000) == 1
			                            ? ::recv(connection.get(), record.data(), record.size(), 0)
			                            : -1;
			if (got < 0 || record.compare(0, static_cast<size_t>(got), expected_[i]) != 0 ||
			    static_cast<size_t>(got) != expected_[i].size()) {
				mismatch_ = "record " + std::to_string(i) + ": " + std::to_string(got) +
				            " bytes, not DAOS's " + std::to_string(expected_[i].size()) +
				            (got > 0 ? " (or other bytes)" : "");
				return;
			}
		}
		for (const std::string &out : answer_) {
			if (::send(connection.get(), out.data(), out.size(), MSG_NOSIGNAL) !=
			    static_cast<ssize_t>(out.size())) {
				mismatch_ = std::string("send: ") + std::strerror(errno);
				return;
			}
		}
	}

	ctl_test::TempDir dir_;
	std::string socket_ = (dir_.path() / "daos.sock").string();
	std::vector<std::string> expected_;
	std::vector<std::string> answer_;
	drpc::UniqueFd listener_;
	std::string mismatch_;
	std::thread thread_;
};

std::vector<std::string> hello_args(const std::string &socket)
{
	return {"--socket",
	        socket,
	        "call",
	        "--module",
	        "0",
	        "--method",
	        "0",
	        "--proto",
	        daos_dir + "/hello.proto",
	        "--response",
	        "hello.HelloResponse"};
}

} // namespace

TEST_CASE("drpc-ctl --proto with DAOS's hello.proto sends DAOS's Go client's bytes and reads its Go server's answer")
{
	ReplayServer daos(test_support::vector_records("hello_call"), test_support::vector_records("hello_response"));
	std::vector<std::string> args = hello_args(daos.socket());
	args.insert(args.end(), {"--request", "hello.Hello", "--json", R"({"name":"Friend"})"});
	const auto run = run_ctl(args);
	CHECK(daos.mismatch() == "");
	CHECK(run.err == "");
	CHECK(run.out == "status: SUCCESS\n{\"greeting\":\"Hello Friend\"}\n");
	CHECK(run.exit_code == 0);
}

TEST_CASE("drpc-ctl with DAOS's bytes: a message of two chunks each way, and an unknown module")
{
	SUBCASE("a 200000-byte name: DAOS's two chunks out, its two chunks back")
	{
		ReplayServer daos(test_support::vector_records("large_hello_call"),
		                  test_support::vector_records("large_hello_response"));
		ctl_test::TempDir dir;
		const auto body = dir.path() / "hello.bin";
		// hello.Hello{name = 200000 x 'x'}: field 1, length 200000 as a varint.
		std::ofstream(body, std::ios::binary) << std::string("\x0a\xc0\x9a\x0c") + std::string(200000, 'x');
		std::vector<std::string> args = hello_args(daos.socket());
		args.insert(args.end(), {"--body-file", body.string()});
		const auto run = run_ctl(args);
		CHECK(daos.mismatch() == "");
		CHECK(run.err == "");
		CHECK(run.out == "status: SUCCESS\n{\"greeting\":\"Hello " + std::string(200000, 'x') + "\"}\n");
		CHECK(run.exit_code == 0);
	}
	SUBCASE("module 99: DAOS's UNKNOWN_MODULE answer")
	{
		ReplayServer daos(test_support::vector_records("unknown_module_call"),
		                  test_support::vector_records("unknown_module_response"));
		const auto run = run_ctl({"--socket", daos.socket(), "call", "--module", "99", "--method", "0"});
		CHECK(daos.mismatch() == "");
		CHECK(run.out == "status: UNKNOWN_MODULE\n");
		CHECK(run.exit_code == 1);
	}
}
