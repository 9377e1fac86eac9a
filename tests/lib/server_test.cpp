// SPDX-License-Identifier: Apache-2.0
// DomainSocketServer over real sockets: the status rules, the socket file
// rules, isolation of sessions, limits, and an orderly shutdown.
#include "server_fixture.hpp"
#include "test_support.hpp"

#include <drpc/client.hpp>
#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

using test::eventually;
using test::Fixture;
using test::make_call;

/// Leaves a socket file behind with nobody listening on it.
void make_stale_socket(const std::filesystem::path &path)
{
	const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
	REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0);
	::close(fd);
}

} // namespace

TEST_CASE("every status path of the dispatcher")
{
	Fixture fixture;
	drpc::ClientConnection client(fixture.socket());
	client.connect();

	struct Case {
		const char *name;
		int32_t module, method;
		std::string body;
		drpc::Status status;
		std::string answer;
	};
	const std::vector<Case> cases = {
		{"success echoes the body", 1000, 0, "payload", drpc::Status::SUCCESS, "payload"},
		{"empty body", 1000, 0, "", drpc::Status::SUCCESS, ""},
		{"unknown module", 77, 0, "x", drpc::Status::UNKNOWN_MODULE, ""},
		{"unknown method", 1000, 9, "x", drpc::Status::UNKNOWN_METHOD, ""},
		{"a throwing handler answers FAILURE", 1000, 1, "x", drpc::Status::FAILURE, ""},
		{"FAILURE carries no body even if one was written", 1000, 2, "x", drpc::Status::FAILURE, ""},
		{"FAILED_UNMARSHAL_PAYLOAD carries no body", 1000, 3, "\x06", drpc::Status::FAILED_UNMARSHAL_PAYLOAD,
	         ""},
		{"FAILED_MARSHAL carries no body", 1000, 3, "\x07", drpc::Status::FAILED_MARSHAL, ""},
		{"SUBMITTED carries no body", 1000, 3, "\x01", drpc::Status::SUBMITTED, ""},
	};
	for (const Case &c : cases) {
		SUBCASE(c.name)
		{
			const drpc::Response response = client.send_msg(make_call(c.module, c.method, c.body));
			CHECK(response.status() == c.status);
			CHECK(response.body() == c.answer);
			if (c.module == 1000)
				CHECK(fixture.echo->last_peer_pid == ::getpid());
		}
	}
}

TEST_CASE("an undecodable call is answered FAILED_UNMARSHAL_CALL with sequence -1 and the session goes on")
{
	Fixture fixture;
	test::RawConnection raw(fixture.socket());
	raw.send_message(std::string("\xff\xff\xff", 3));
	const auto answer = raw.receive_message();
	REQUIRE(answer);
	const auto response = drpc::codec::decode_response(*answer);
	REQUIRE(response);
	CHECK(response->sequence == -1);
	CHECK(response->status == drpc::Status::FAILED_UNMARSHAL_CALL);
	CHECK(response->body.empty());

	drpc::Call call = make_call(1000, 0, "still here");
	call.set_sequence(42);
	raw.send_message(call.SerializeAsString());
	const auto second = raw.receive_message();
	REQUIRE(second);
	const auto decoded = drpc::codec::decode_response(*second);
	REQUIRE(decoded);
	CHECK(decoded->sequence == 42);
	CHECK(decoded->body == "still here");
}

TEST_CASE("1 MiB calls and answers round-trip intact")
{
	Fixture fixture;
	drpc::ClientConnection client(fixture.socket());
	client.connect();
	std::string body(1 << 20, '\0');
	for (size_t i = 0; i < body.size(); ++i)
		body[i] = static_cast<char>(i * 7 % 256);
	for (int round = 0; round < 3; ++round) {
		const drpc::Response response = client.send_msg(make_call(1000, 0, body));
		REQUIRE(response.status() == drpc::Status::SUCCESS);
		CHECK(response.body() == body);
	}
}

TEST_CASE("an answer larger than the message limit is FAILED_MARSHAL, not a broken session")
{
	drpc::ServerOptions options;
	options.max_message_bytes = 4096;
	Fixture fixture(options);
	drpc::ClientConnection client(fixture.socket());
	client.connect();
	CHECK(client.send_msg(make_call(1000, 0, std::string(4080, 'a'))).status() == drpc::Status::FAILED_MARSHAL);
	CHECK(client.send_msg(make_call(1000, 0, "small")).body() == "small");
}

TEST_CASE("a message over the limit closes that session only, before anything is allocated for it")
{
	drpc::ServerOptions options;
	options.max_message_bytes = 4096;
	Fixture fixture(options);
	test::RawConnection hostile(fixture.socket());
	hostile.send_record(test::make_record(uint64_t{1} << 40, 8, 0, 1, "12345678"));
	CHECK(hostile.closed_by_peer());

	drpc::ClientConnection client(fixture.socket());
	client.connect();
	CHECK(client.send_msg(make_call(1000, 0, "ok")).body() == "ok");
}

TEST_CASE("framing errors end the offending session and no other")
{
	Fixture fixture;
	drpc::ClientConnection bystander(fixture.socket());
	bystander.connect();

	const std::vector<std::pair<const char *, std::string>> hostile_records = {
		{"record shorter than a header", std::string(10, 'x')},
		{"total_chunks is 0", test::make_record(4, 4, 0, 0, "abcd")},
		{"chunk_idx is not 0", test::make_record(4, 4, 1, 1, "abcd")},
		{"chunk_data_size larger than the record", test::make_record(8, 8, 0, 1, "abcd")},
		{"chunk_data_size over the chunk maximum", test::make_record(200000, 200000, 0, 2, "abcd")},
	};
	for (const auto &[name, record] : hostile_records) {
		CAPTURE(name);
		test::RawConnection hostile(fixture.socket());
		hostile.send_record(record);
		CHECK(hostile.closed_by_peer());
		CHECK(bystander.send_msg(make_call(1000, 0, name)).body() == name);
	}
	CHECK(eventually([&] { return fixture.server->stats().closed_framing_error == hostile_records.size(); }));
	CHECK(fixture.server->stats().closed_over_budget == 0);
}

TEST_CASE("a client that disconnects mid-message disturbs nobody")
{
	Fixture fixture;
	{
		test::RawConnection quitter(fixture.socket());
		const std::string data(drpc::framing::max_chunk_data, 'q');
		quitter.send_record(test::make_record(300000, data.size(), 0, 3, data));
	}
	drpc::ClientConnection client(fixture.socket());
	client.connect();
	CHECK(client.send_msg(make_call(1000, 0, "after")).body() == "after");
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 1; }));
}

TEST_CASE("a client stalled halfway through a message does not delay others")
{
	Fixture fixture;
	test::RawConnection stalled(fixture.socket());
	const std::string first(drpc::framing::max_chunk_data, 's');
	const size_t total = first.size() + 10;
	stalled.send_record(test::make_record(total, first.size(), 0, 2, first));

	drpc::ClientConnection client(fixture.socket());
	client.connect();
	for (int i = 0; i < 100; ++i)
		REQUIRE(client.send_msg(make_call(1000, 0, std::to_string(i))).body() == std::to_string(i));

	// The stalled client can still finish its message and is answered.
	stalled.send_record(test::make_record(total, 10, 1, 2, std::string(10, 't')));
	CHECK(stalled.receive_record());
}

TEST_CASE("a slow handler holds up only its own session")
{
	Fixture fixture;
	auto gate = std::make_shared<test::GateModule>();
	fixture.server->register_module(gate);
	auto call_gate = [&] {
		drpc::ClientConnection client(fixture.socket());
		client.connect();
		return client.send_msg(make_call(gate->id(), 0, "g")).status();
	};
	auto first = std::async(std::launch::async, call_gate);
	auto second = std::async(std::launch::async, call_gate);
	// Both calls are inside the handler at once.
	CHECK(gate->wait_entered(2));
	drpc::ClientConnection other(fixture.socket());
	other.connect();
	CHECK(other.send_msg(make_call(1000, 0, "free")).body() == "free");
	gate->open();
	CHECK(first.get() == drpc::Status::SUCCESS);
	CHECK(second.get() == drpc::Status::SUCCESS);
}

TEST_CASE("1,000 concurrent sessions are all served")
{
	Fixture fixture;
	constexpr int sessions = 1000;
	std::vector<std::unique_ptr<drpc::ClientConnection>> clients;
	clients.reserve(sessions);
	for (int i = 0; i < sessions; ++i) {
		clients.push_back(std::make_unique<drpc::ClientConnection>(fixture.socket()));
		clients.back()->connect();
	}
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == sessions; }));
	int answered = 0;
	for (int round = 0; round < 2; ++round) {
		for (int i = 0; i < sessions; ++i) {
			const std::string body = std::to_string(round) + ":" + std::to_string(i);
			answered += clients[i]->send_msg(make_call(1000, 0, body)).body() == body ? 1 : 0;
		}
	}
	CHECK(answered == 2 * sessions);
	clients.clear();
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 0; }));
	CHECK(fixture.server->stats().sessions_total == sessions);
}

TEST_CASE("connections over max_sessions are refused and counted")
{
	drpc::ServerOptions options;
	options.max_sessions = 2;
	Fixture fixture(options);
	drpc::ClientConnection a(fixture.socket()), b(fixture.socket());
	a.connect();
	b.connect();
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 2; }));
	test::RawConnection third(fixture.socket());
	CHECK(third.closed_by_peer());
	CHECK(fixture.server->stats().sessions_refused == 1);
	CHECK(fixture.server->stats().refused_session_limit == 1);
	CHECK(fixture.server->stats().refused_no_thread == 0);
	CHECK(a.send_msg(make_call(1000, 0, "a")).body() == "a");
}

TEST_CASE("module registration")
{
	Fixture fixture;
	SUBCASE("a duplicate ID is refused with the ID in the message")
	{
		try {
			fixture.server->register_module(std::make_shared<test::EchoModule>(1000));
			FAIL("no exception");
		} catch (const drpc::DuplicateModuleError &e) {
			CHECK(std::string(e.what()).find("1000") != std::string::npos);
		}
		drpc::ClientConnection client(fixture.socket());
		client.connect();
		CHECK(client.send_msg(make_call(1000, 0, "x")).status() == drpc::Status::SUCCESS);
	}
	SUBCASE("a module registered after start is served")
	{
		drpc::ClientConnection client(fixture.socket());
		client.connect();
		CHECK(client.send_msg(make_call(5, 0, "x")).status() == drpc::Status::UNKNOWN_MODULE);
		fixture.server->register_module(std::make_shared<test::EchoModule>(5));
		CHECK(client.send_msg(make_call(5, 0, "x")).status() == drpc::Status::SUCCESS);
	}
}

TEST_CASE("the socket file")
{
	test::TempDir dir;
	const auto path = dir / "drpc.sock";

	SUBCASE("has exactly the requested mode")
	{
		for (mode_t mode : {mode_t{0600}, mode_t{0660}, mode_t{0666}}) {
			CAPTURE(mode);
			drpc::DomainSocketServer server(path, mode);
			server.start();
			struct stat info {};
			REQUIRE(::lstat(path.c_str(), &info) == 0);
			CHECK(S_ISSOCK(info.st_mode));
			CHECK((info.st_mode & 07777) == mode);
			server.shutdown();
			CHECK_FALSE(std::filesystem::exists(path));
		}
	}
	SUBCASE("a stale socket is removed and replaced")
	{
		make_stale_socket(path);
		drpc::DomainSocketServer server(path, 0600);
		server.start();
		server.register_module(std::make_shared<test::EchoModule>());
		drpc::ClientConnection client(path);
		client.connect();
		CHECK(client.send_msg(make_call(1000, 0, "x")).status() == drpc::Status::SUCCESS);
	}
	SUBCASE("a stale socket is kept when unlinking is switched off")
	{
		make_stale_socket(path);
		drpc::DomainSocketServer server(drpc::ServerOptions{.socket_path = path, .unlink_stale_socket = false});
		CHECK_THROWS_WITH_AS(server.start(), doctest::Contains("stale socket"), drpc::Error);
		CHECK(std::filesystem::is_socket(path));
	}
	SUBCASE("a live socket is refused and keeps serving")
	{
		drpc::DomainSocketServer first(path, 0600);
		first.register_module(std::make_shared<test::EchoModule>());
		first.start();
		drpc::DomainSocketServer second(path, 0600);
		CHECK_THROWS_WITH_AS(second.start(), doctest::Contains("socket in use"), drpc::Error);
		drpc::ClientConnection client(path);
		client.connect();
		CHECK(client.send_msg(make_call(1000, 0, "x")).status() == drpc::Status::SUCCESS);
	}
	SUBCASE("a file that is not a socket is never removed")
	{
		std::ofstream(path) << "precious";
		drpc::DomainSocketServer server(path, 0600);
		CHECK_THROWS_WITH_AS(server.start(), doctest::Contains("not a socket"), drpc::Error);
		CHECK(test::read_file(path) == "precious");
	}
	SUBCASE("an error names the path")
	{
		const auto missing = dir / "no-such-dir" / "drpc.sock";
		drpc::DomainSocketServer server(missing, 0600);
		CHECK_THROWS_WITH_AS(server.start(), doctest::Contains(missing.c_str()), drpc::Error);
	}
}

TEST_CASE("shutdown lets a call in flight finish, then closes everything")
{
	Fixture fixture;
	auto gate = std::make_shared<test::GateModule>();
	fixture.server->register_module(gate);
	drpc::ClientConnection idle(fixture.socket());
	idle.connect();

	auto in_flight = std::async(std::launch::async, [&] {
		drpc::ClientConnection client(fixture.socket());
		client.connect();
		return client.send_msg(make_call(gate->id(), 0, "finish me"));
	});
	REQUIRE(gate->wait_entered(1));
	auto stopping = std::async(std::launch::async, [&] { return fixture.server->shutdown(); });
	// New connections are refused once the listener is gone.
	CHECK(eventually([&] { return !std::filesystem::exists(fixture.socket()); }));
	gate->open();
	const drpc::Response response = in_flight.get();
	CHECK(response.status() == drpc::Status::SUCCESS);
	CHECK(response.body() == "finish me");
	CHECK(stopping.get());
	CHECK(fixture.server->stats().sessions_open == 0);
	CHECK_THROWS_AS(idle.send_msg(make_call(1000, 0, "x")), drpc::Error);
}

TEST_CASE("shutdown reports a call still running at its deadline")
{
	Fixture fixture;
	auto gate = std::make_shared<test::GateModule>();
	fixture.server->register_module(gate);
	auto in_flight = std::async(std::launch::async, [&] {
		drpc::ClientConnection client(fixture.socket());
		client.connect();
		return client.send_msg(make_call(gate->id(), 0, "slow")).status();
	});
	REQUIRE(gate->wait_entered(1));
	CHECK_FALSE(fixture.server->shutdown(50ms));
	gate->open();
	CHECK(in_flight.get() == drpc::Status::SUCCESS);
	CHECK(fixture.server->shutdown());
}
