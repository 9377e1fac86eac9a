// SPDX-License-Identifier: Apache-2.0
// DomainSocketServer's limits over real sockets and real rlimits: admission
// that cannot leak, parked idle sessions, the in-flight budget, timeouts,
// session quotas and reserved slots, the fd limit, and a server-uid check on
// the client side.
#include "child_process.hpp"
#include "server_fixture.hpp"
#include "test_support.hpp"
#include "thread_defaults.hpp"

#include <drpc/client.hpp>
#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::Fixture;
using test::make_call;

/// This process's thread count (from /proc/self/status).
size_t thread_count()
{
	std::ifstream status("/proc/self/status");
	std::string line;
	while (std::getline(status, line)) {
		if (line.rfind("Threads:", 0) == 0)
			return std::stoul(line.substr(8));
	}
	return 0;
}

/// A record of chunk `idx` of a message of `total` bytes cut in full chunks.
std::string chunk_of(uint64_t total, uint32_t idx)
{
	const uint32_t chunks = drpc::framing::chunk_count(total);
	const uint64_t offset = uint64_t{idx} * drpc::framing::max_chunk_data;
	const uint64_t size = std::min<uint64_t>(drpc::framing::max_chunk_data, total - offset);
	return test::make_record(total, size, idx, chunks, std::string(size, 'x'));
}

/// Sends `count` 1 MiB echo calls on `connection` and never reads an answer,
/// on a thread of its own (its sends block once the server stops reading).
std::future<void> send_without_reading(test::RawConnection &connection, int count)
{
	return std::async(std::launch::async, [&connection, count] {
		try {
			for (int i = 0; i < count; ++i)
				connection.send_message(
					make_call(1000, 0, std::string(size_t{1} << 20, 'd')).SerializeAsString());
		} catch (const drpc::Error &) {
			// The server closed the connection.
		}
	});
}

/// An encoded echo call (module 1000, method 0) with `body`.
std::string echo_call(const std::string &body) { return make_call(1000, 0, body).SerializeAsString(); }

} // namespace

TEST_CASE("limits: a server whose threads cannot start says why and leaves nothing behind")
{
	test::TempDir dir;
	const auto path = dir / "drpc.sock";
	const size_t threads_before = thread_count();
	{
		drpc::DomainSocketServer server(path, 0600);
		std::string error = "(nothing thrown)";
		int code = 0;
		{
			const test_support::NoThreadStarts no_threads;
			try {
				server.start();
			} catch (const drpc::SystemError &e) {
				error = e.what();
				code = e.code();
			}
		}
		CHECK_MESSAGE(error.find(path.string() + ": cannot start its threads (") != std::string::npos, error);
		CHECK_MESSAGE(error.find("RLIMIT_DATA") != std::string::npos, error);
		CHECK(code != 0);
		CHECK_FALSE(std::filesystem::exists(path));
		CHECK(server.shutdown());
	} // and its destructor has nothing to wait for
	CHECK(thread_count() == threads_before);

	// The path is free again.
	drpc::DomainSocketServer next(path, 0600);
	next.register_module(std::make_shared<test::EchoModule>());
	next.start();
	drpc::ClientConnection client(path);
	client.connect();
	CHECK(client.send_msg(make_call(1000, 0, "x")).status() == drpc::Status::SUCCESS);
}

TEST_CASE("limits: a session that gets no thread is undone and only its connection is closed")
{
	drpc::ServerOptions options;
	options.max_threads = 1;
	options.spare_threads = 0;
	Fixture fixture(options);
	auto gate = std::make_shared<test::GateModule>();
	fixture.server->register_module(gate);
	// The only thread is held by a call in the gate.
	test::RawConnection busy(fixture.socket());
	busy.send_message(make_call(gate->id(), 0, "held").SerializeAsString());
	REQUIRE(gate->wait_entered(1));

	for (int round = 0; round < 3; ++round) {
		for (int i = 0; i < 5; ++i) {
			test::RawConnection refused(fixture.socket());
			CHECK(refused.closed_by_peer());
		}
	}
	// The count follows the close by a moment.
	CHECK(eventually([&] { return fixture.server->stats().sessions_refused == 15; }));
	CHECK(fixture.server->stats().refused_no_thread == 15);
	CHECK(fixture.server->stats().refused_session_limit == 0);
	CHECK(fixture.server->stats().sessions_open == 1);
	gate->open();
	CHECK(busy.receive_message().has_value());
	CHECK(eventually([&] { return fixture.server->stats().sessions_parked == 1; }));

	drpc::ClientConnection later(fixture.socket());
	later.connect();
	CHECK(later.send_msg(make_call(1000, 0, "later")).body() == "later");
	later.close();
	CHECK(fixture.server->shutdown(10s));
	CHECK(fixture.server->stats().sessions_open == 0);
}

TEST_CASE("limits: RLIMIT_NPROC for an unprivileged uid refuses sessions without leaking them")
{
	const auto uid = test::test_user("drpc-test-nproc");
	if (!uid) {
		MESSAGE("skipped: creating a second uid needs root");
		return;
	}
	test::TempDir dir;
	REQUIRE(::chown(dir.path().c_str(), *uid, *uid) == 0);
	const auto socket = dir / "drpc.sock";
	test::ChildProcess child(
		[&]() -> std::string {
			drpc::ServerOptions options;
			options.socket_path = socket;
			options.spare_threads = 0;
			options.max_threads = 0; // only the system's limit applies
			drpc::DomainSocketServer server(options);
			auto gate = std::make_shared<test::GateModule>();
			server.register_module(std::make_shared<test::EchoModule>());
			server.register_module(gate);
			server.start();
			// A few more threads for this uid at most (how many exactly
		        // depends on the kernel's accounting): sessions held in the gate
		        // take them until the next one is refused.
			const rlim_t threads = thread_count() + 2;
			const rlimit limit{threads, threads};
			if (::setrlimit(RLIMIT_NPROC, &limit) != 0)
				return "setrlimit failed";
			// Every way out opens the gate, or the server could not stop.
			struct Opener {
				test::GateModule &gate;
				~Opener() { gate.open(); }
			} opener{*gate};
			std::vector<std::unique_ptr<test::RawConnection>> held;
			for (int attempt = 0; attempt < 8; ++attempt) {
				auto connection = std::make_unique<test::RawConnection>(socket);
				try {
					connection->send_message(make_call(gate->id(), 0, "held").SerializeAsString());
				} catch (const drpc::SystemError &) {
					break; // refused before the call was read
				}
				if (!gate->wait_entered(static_cast<int>(held.size()) + 1, 2000))
					break;
				held.push_back(std::move(connection));
			}
			if (held.empty() || held.size() == 8)
				return std::to_string(held.size()) + " sessions were served under RLIMIT_NPROC " +
			               std::to_string(threads);
			const uint64_t refused_before = server.stats().sessions_refused;
			for (int i = 0; i < 20; ++i) {
				test::RawConnection refused(socket);
				if (!refused.closed_by_peer())
					return "connection " + std::to_string(i) + " was not closed";
			}
			if (!eventually([&] { return server.stats().sessions_refused == refused_before + 20; }) ||
		            server.stats().sessions_open != held.size())
				return "open " + std::to_string(server.stats().sessions_open) + ", refused " +
			               std::to_string(server.stats().sessions_refused);
			gate->open();
			for (auto &connection : held)
				if (!connection->receive_message())
					return "no answer to a held call";
			held.clear();
			if (!eventually([&] { return server.stats().sessions_open == 0; }))
				return "sessions_open did not return to 0";
			test::RawConnection later(socket);
			later.send_message(echo_call("again"));
			if (!later.receive_message())
				return "a later client was not served";
			if (!server.shutdown(10s))
				return "shutdown timed out";
			if (server.stats().sessions_open != 0)
				return "sessions_open " + std::to_string(server.stats().sessions_open) +
			               " after shutdown";
			return "ok";
		},
		uid);
	CHECK(child.go() == "ok");
	CHECK(child.finish() == 0);
}

TEST_CASE("limits: idle sessions are parked without a thread and served again")
{
	drpc::ServerOptions options;
	options.park_after = 10ms;
	Fixture fixture(options);
	const size_t threads_before = thread_count();
	constexpr int sessions = 300;
	std::vector<std::unique_ptr<drpc::ClientConnection>> clients;
	for (int i = 0; i < sessions; ++i) {
		clients.push_back(std::make_unique<drpc::ClientConnection>(fixture.socket()));
		clients.back()->connect();
		CHECK(clients.back()->send_msg(make_call(1000, 0, "first")).body() == "first");
	}
	CHECK(eventually([&] { return fixture.server->stats().sessions_parked == sessions; }));
	// Threads: the spare ones and at most a few on their way out.
	CHECK(eventually([&] { return thread_count() <= threads_before + options.spare_threads; }));
	for (int i = 0; i < sessions; ++i)
		CHECK(clients[i]->send_msg(make_call(1000, 0, std::to_string(i))).body() == std::to_string(i));
	clients.clear();
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 0; }));
}

TEST_CASE("limits: the in-flight budget closes the session that asks too much, and nobody else")
{
	drpc::ServerOptions options;
	SUBCASE("the server-wide budget")
	{
		options.max_inflight_bytes = size_t{1} << 20;
		options.max_inflight_bytes_per_uid = 0;
	}
	SUBCASE("the per-uid share")
	{
		options.max_inflight_bytes = 0;
		options.max_inflight_bytes_per_uid = size_t{1} << 20;
	}
	Fixture fixture(options);
	drpc::ClientConnection bystander(fixture.socket());
	bystander.connect();

	// A header claiming 8 MiB costs only what has arrived.
	const uint64_t total = uint64_t{8} << 20;
	test::RawConnection hoarder(fixture.socket());
	hoarder.send_record(chunk_of(total, 0));
	CHECK(eventually([&] { return fixture.server->stats().inflight_bytes > 0; }));
	CHECK(fixture.server->stats().inflight_bytes <= 2 * drpc::framing::max_chunk_data);
	CHECK(bystander.send_msg(make_call(1000, 0, "still here")).body() == "still here");

	// Chunks beyond the budget close the hoarder.
	bool closed = false;
	for (uint32_t idx = 1; idx + 1 < drpc::framing::chunk_count(total) && !closed; ++idx) {
		try {
			hoarder.send_record(chunk_of(total, idx));
		} catch (const drpc::SystemError &) {
			closed = true; // the server has already closed it
		}
	}
	CHECK((closed || hoarder.closed_by_peer()));
	CHECK(eventually([&] { return fixture.server->stats().inflight_bytes == 0; }));
	CHECK(fixture.server->stats().inflight_peak_bytes <= (size_t{1} << 20));
	CHECK(fixture.server->stats().closed_over_budget == 1);
	CHECK(bystander.send_msg(make_call(1000, 0, std::string(300000, 'b'))).status() == drpc::Status::SUCCESS);
}

TEST_CASE("limits: a message not completed within message_timeout closes its session")
{
	drpc::ServerOptions options;
	options.message_timeout = 200ms;
	options.park_after = 10ms;
	Fixture fixture(options);
	drpc::ClientConnection bystander(fixture.socket());
	bystander.connect();
	test::RawConnection stalled(fixture.socket());
	const uint64_t total = 3 * drpc::framing::max_chunk_data;
	stalled.send_record(chunk_of(total, 0));
	SUBCASE("stalled after the first chunk") {}
	SUBCASE("stalled after the second chunk")
	{
		std::this_thread::sleep_for(5ms);
		stalled.send_record(chunk_of(total, 1));
	}
	CHECK(stalled.closed_by_peer());
	CHECK(bystander.send_msg(make_call(1000, 0, "b")).body() == "b");
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 1; }));
	CHECK(fixture.server->stats().closed_message_timeout == 1);
	CHECK(fixture.server->stats().closed_idle_timeout == 0);
}

TEST_CASE("limits: an answer the client does not read within send_timeout closes its session")
{
	drpc::ServerOptions options;
	options.send_timeout = 200ms;
	Fixture fixture(options);
	drpc::ClientConnection bystander(fixture.socket());
	bystander.connect();
	test::RawConnection deaf(fixture.socket());
	// 1 MiB answers, never read: the socket buffer fills within a few.
	auto sending = send_without_reading(deaf, 64);
	CHECK(eventually([&] { return fixture.server->stats().calls_served >= 1; }));
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 1; }));
	sending.get();
	CHECK(bystander.send_msg(make_call(1000, 0, "b")).body() == "b");
	CHECK(fixture.server->stats().closed_send_timeout == 1);
}

TEST_CASE("limits: shutdown does not wait on a client that does not read")
{
	drpc::ServerOptions options;
	options.send_timeout = std::chrono::hours(1);
	Fixture fixture(options);
	test::RawConnection deaf(fixture.socket());
	auto sending = send_without_reading(deaf, 64);
	CHECK(eventually([&] { return fixture.server->stats().calls_served >= 1; }));
	CHECK(fixture.server->shutdown(10s));
	CHECK(fixture.server->stats().sessions_open == 0);
	sending.get();
}

TEST_CASE("limits: idle_timeout closes quiet sessions only when set")
{
	drpc::ServerOptions options;
	options.park_after = 10ms;
	SUBCASE("off (the default): a quiet session stays")
	{
		Fixture fixture(options);
		drpc::ClientConnection quiet(fixture.socket());
		quiet.connect();
		CHECK(eventually([&] { return fixture.server->stats().sessions_parked == 1; }));
		std::this_thread::sleep_for(300ms);
		CHECK(quiet.send_msg(make_call(1000, 0, "q")).body() == "q");
	}
	SUBCASE("set: a quiet session is closed, a busy one is not")
	{
		options.idle_timeout = 150ms;
		Fixture fixture(options);
		// Busy across several timeout periods: one calls without a pause
		// (it keeps its thread), one every 30 ms (parked between calls).
		drpc::ClientConnection busy(fixture.socket()), paced(fixture.socket());
		busy.connect();
		paced.connect();
		test::RawConnection quiet(fixture.socket());
		const auto until = std::chrono::steady_clock::now() + 4 * options.idle_timeout;
		auto pacing = std::async(std::launch::async, [&] {
			int answered = 0;
			while (std::chrono::steady_clock::now() < until) {
				answered += paced.send_msg(make_call(1000, 0, "p")).body() == "p";
				std::this_thread::sleep_for(30ms);
			}
			return answered;
		});
		int busy_calls = 0;
		while (std::chrono::steady_clock::now() < until)
			busy_calls += busy.send_msg(make_call(1000, 0, "b")).body() == "b";
		CHECK(pacing.get() >= 4);
		CHECK(busy_calls >= 50);
		CHECK(quiet.closed_by_peer());
		CHECK(fixture.server->stats().sessions_open == 2);
		CHECK(fixture.server->stats().closed_idle_timeout == 1);
		CHECK(busy.send_msg(make_call(1000, 0, "still")).body() == "still");
		CHECK(paced.send_msg(make_call(1000, 0, "still")).body() == "still");
	}
}

TEST_CASE("limits: sessions per uid and the slots reserved for root and the owner")
{
	const auto uid = test::test_user("drpc-test-quota");
	if (!uid) {
		MESSAGE("skipped: a second uid needs root");
		return;
	}
	drpc::ServerOptions options;
	options.socket_mode = 0666;
	SUBCASE("max_sessions_per_uid")
	{
		options.max_sessions = 10;
		options.reserved_sessions = 0;
		options.max_sessions_per_uid = 2;
	}
	SUBCASE("reserved_sessions")
	{
		options.max_sessions = 4;
		options.reserved_sessions = 2;
		options.max_sessions_per_uid = 0;
	}
	test::TempDir dir;
	REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
	const auto socket = dir / "drpc.sock";
	// Forked before the server's threads start.
	test::ChildProcess other(
		[&] {
			int served = 0;
			std::vector<std::unique_ptr<drpc::ClientConnection>> connections;
			for (int i = 0; i < 3; ++i) {
				connections.push_back(std::make_unique<drpc::ClientConnection>(socket));
				try {
					connections.back()->connect();
					served +=
						connections.back()->send_msg(make_call(1000, 0, "o"), 5s).body() == "o";
				} catch (const drpc::Error &) {
				}
			}
			return std::to_string(served);
		},
		uid);
	options.socket_path = socket;
	drpc::DomainSocketServer server(options);
	server.register_module(std::make_shared<test::EchoModule>());
	server.start();
	CHECK(other.go() == "2");
	CHECK(server.stats().sessions_refused == 1);
	CHECK(server.stats().refused_session_limit == 1);
	// Root still gets in: the reserved slots, and no per-uid limit for it.
	drpc::ClientConnection root_a(socket), root_b(socket);
	root_a.connect();
	root_b.connect();
	CHECK(root_a.send_msg(make_call(1000, 0, "r")).body() == "r");
	CHECK(root_b.send_msg(make_call(1000, 0, "r")).body() == "r");
	CHECK(other.finish() == 0);
}

TEST_CASE("limits: at the fd limit the newest connection is refused at once, not left hanging")
{
	test::TempDir dir;
	const auto socket = dir / "drpc.sock";
	// The clients live in their own process, with their own fd table.
	test::ChildProcess clients([&] {
		int answered = 0;
		int refused = 0;
		std::vector<std::unique_ptr<test::RawConnection>> connections;
		for (int i = 0; i < 20; ++i) {
			connections.push_back(std::make_unique<test::RawConnection>(socket));
			try {
				connections.back()->send_message(echo_call("c"));
			} catch (const drpc::SystemError &) {
				++refused; // closed before the call was sent
				continue;
			}
			if (connections.back()->receive_message(5000))
				++answered;
			else
				++refused;
		}
		return std::to_string(answered) + " " + std::to_string(refused);
	});
	drpc::ServerOptions options;
	options.socket_path = socket;
	drpc::DomainSocketServer server(options);
	server.register_module(std::make_shared<test::EchoModule>());
	server.start();
	rlimit saved{};
	REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
	// Room for five more descriptors in this process: the limit is put just
	// past the fifth free number.
	std::set<int> open;
	for (const auto &entry : std::filesystem::directory_iterator("/proc/self/fd"))
		open.insert(std::stoi(entry.path().filename().string()));
	int limit = 0;
	for (int free = 0; free < 5; ++limit)
		free += open.count(limit) == 0 ? 1 : 0;
	const rlimit tight{static_cast<rlim_t>(limit), saved.rlim_max};
	REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
	const std::string report = clients.go();
	REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
	int answered = -1;
	int refused = -1;
	std::istringstream(report) >> answered >> refused;
	CAPTURE(report);
	CHECK(answered >= 1);
	CHECK(refused >= 1);
	CHECK(answered + refused == 20);
	CHECK(server.stats().refused_no_descriptor >= 1);
	CHECK(clients.finish() == 0);
	drpc::ClientConnection later(socket);
	CHECK(eventually([&] { return server.stats().sessions_open == 0; }));
	later.connect();
	CHECK(later.send_msg(make_call(1000, 0, "later")).body() == "later");
}

TEST_CASE("limits: a client that requires the server's uid talks to no one else")
{
	Fixture fixture;
	SUBCASE("the right uid")
	{
		drpc::ClientConnection client(fixture.socket(), drpc::ClientOptions{.require_server_uid = ::geteuid()});
		client.connect();
		CHECK(client.send_msg(make_call(1000, 0, "me")).body() == "me");
	}
	SUBCASE("another uid: refused before anything is sent")
	{
		drpc::ClientConnection client(fixture.socket(),
		                              drpc::ClientOptions{.require_server_uid = ::geteuid() + 1});
		try {
			client.connect();
			FAIL("connected");
		} catch (const drpc::AccessError &e) {
			CHECK(std::string(e.what()).find("uid " + std::to_string(::geteuid())) != std::string::npos);
		}
		CHECK_FALSE(client.is_connected());
		CHECK(eventually([&] { return fixture.server->stats().sessions_open == 0; }));
		CHECK(fixture.server->stats().calls_served == 0);
	}
}
