// SPDX-License-Identifier: Apache-2.0
// ClientConnection against a real DomainSocketServer and against fake servers
// that break the protocol: numbering, errors that name the path and the step,
// deadlines, statuses, sharing between threads.
#include "test_support.hpp"

#include "hello.pb.h"

#include <drpc/client.hpp>
#include <drpc/codec.hpp>
#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr int32_t hello_id = 0;
constexpr int32_t echo_id = 1000;
constexpr int32_t gate_id = 2000;
constexpr int32_t sequence_id = 3000;

/// Answers every call with the call's sequence number as text.
class SequenceModule : public drpc::Module {
public:
	int32_t id() const noexcept override { return sequence_id; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t>,
	                         drpc::ResponseBody &out) override
	{
		return out.assign(std::to_string(context.sequence)) ? drpc::Status::SUCCESS
		                                                    : drpc::Status::FAILED_MARSHAL;
	}
};

/// A real server with the test modules, in a fresh directory.
struct Server {
	test::TempDir dir;
	std::filesystem::path socket = dir / "drpc.sock";
	std::shared_ptr<test::GateModule> gate = std::make_shared<test::GateModule>(gate_id);
	drpc::DomainSocketServer server{socket, 0600};

	Server()
	{
		server.register_module(std::make_shared<test::HelloModule>());
		server.register_module(std::make_shared<test::EchoModule>(echo_id));
		server.register_module(std::make_shared<SequenceModule>());
		server.register_module(gate);
		server.start();
	}
	~Server()
	{
		// A call left in the gate would hold the shutdown forever.
		gate->open();
		server.shutdown();
	}
};

drpc::Call make_call(int32_t module, int32_t method, const std::string &body = "")
{
	drpc::Call call;
	call.set_module(module);
	call.set_method(method);
	call.set_body(body);
	return call;
}

template <class E, class F> E thrown(F &&f)
{
	try {
		f();
	} catch (const E &e) {
		return e;
	}
	FAIL("nothing thrown");
	throw std::logic_error("unreachable");
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

/// A listening socket whose one connection reads one call and answers it as
/// told: the protocol-breaking peer a real server never is. Without an
/// answer it never reads at all, like a stalled server.
class FakeServer {
public:
	using Answer = std::function<void(int fd, int64_t call_sequence)>;

	explicit FakeServer(Answer answer = nullptr) : socket_(dir_ / "fake.sock")
	{
		listener_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		REQUIRE(listener_ >= 0);
		sockaddr_un address{};
		address.sun_family = AF_UNIX;
		std::strncpy(address.sun_path, socket_.c_str(), sizeof(address.sun_path) - 1);
		REQUIRE(::bind(listener_, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0);
		REQUIRE(::listen(listener_, 4) == 0);
		thread_ = std::thread([this, answer = std::move(answer)] { serve(answer); });
	}
	~FakeServer()
	{
		thread_.join();
		::close(listener_);
	}
	FakeServer(const FakeServer &) = delete;
	FakeServer &operator=(const FakeServer &) = delete;

	[[nodiscard]] const std::filesystem::path &socket() const noexcept { return socket_; }

private:
	void serve(const Answer &answer) noexcept
	{
		pollfd pfd{listener_, POLLIN, 0};
		if (::poll(&pfd, 1, 10000) != 1)
			return;
		const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!answer) {
			// Wait for the client to hang up, or give up after 10 s, which
			// fails a blocked client with EPIPE rather than hanging the test.
			pollfd hangup{fd, POLLRDHUP, 0};
			while (::poll(&hangup, 1, 10000) == 1 && (hangup.revents & (POLLRDHUP | POLLHUP)) == 0) {
			}
			::close(fd);
			return;
		}
		try {
			drpc::framing::MessageReader reader;
			if (reader.read(fd, 10000) == drpc::framing::MessageReader::Result::message) {
				const auto bytes = reader.message();
				const auto call = drpc::codec::decode_call(
					std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()));
				answer(fd, call ? call->sequence : -1);
				// Stay until the client hangs up, so that it reads the answer
				// rather than an early EOF.
				while (reader.read(fd, 10000) == drpc::framing::MessageReader::Result::message) {
				}
			}
		} catch (...) {
		}
		::close(fd);
	}

	test::TempDir dir_;
	std::filesystem::path socket_;
	int listener_ = -1;
	std::thread thread_;
};

void send_bytes(int fd, const std::string &message)
{
	drpc::framing::send_message(fd, std::span(reinterpret_cast<const uint8_t *>(message.data()), message.size()));
}

std::string response_bytes(int64_t sequence, drpc::Status status, const std::string &body)
{
	drpc::Response response;
	response.set_sequence(sequence);
	response.set_status(status);
	response.set_body(body);
	return response.SerializeAsString();
}

} // namespace

TEST_CASE("client: connect, is_connected, close")
{
	Server server;
	drpc::ClientConnection client(server.socket);
	CHECK(client.socket_path() == server.socket);
	CHECK_FALSE(client.is_connected());
	client.connect();
	CHECK(client.is_connected());
	client.connect(); // a no-op
	CHECK(client.is_connected());
	client.close();
	CHECK_FALSE(client.is_connected());
	client.close(); // a no-op
	CHECK_FALSE(client.is_connected());
}

TEST_CASE("client: DAOS's hello call")
{
	Server server;
	drpc::ClientConnection client(server.socket);
	client.connect();
	hello::Hello request;
	request.set_name("dRPC");
	const drpc::Response response = client.send_msg(make_call(hello_id, 0, request.SerializeAsString()));
	REQUIRE(response.status() == drpc::Status::SUCCESS);
	hello::HelloResponse greeting;
	REQUIRE(greeting.ParseFromString(response.body()));
	CHECK(greeting.greeting() == "Hello dRPC");
}

TEST_CASE("client: calls are numbered 1, 2, 3 per connection")
{
	Server server;
	drpc::ClientConnection client(server.socket);
	client.connect();
	for (int64_t expected = 1; expected <= 3; ++expected) {
		drpc::Call call = make_call(sequence_id, 0);
		call.set_sequence(99); // ignored: the connection numbers its calls
		const drpc::Response response = client.send_msg(call);
		CHECK(response.status() == drpc::Status::SUCCESS);
		CHECK(response.sequence() == expected);
		CHECK(response.body() == std::to_string(expected));
	}
	client.close();
	client.connect();
	const drpc::Response response = client.send_msg(make_call(sequence_id, 0));
	CHECK(response.sequence() == 1);
	CHECK(response.body() == "1");
}

TEST_CASE("client: errors name the socket path and the step")
{
	Server server;
	SUBCASE("send before connect")
	{
		drpc::ClientConnection client(server.socket);
		const auto error = thrown<drpc::SystemError>([&] { (void)client.send_msg(make_call(echo_id, 0)); });
		CHECK(error.code() == ENOTCONN);
		CHECK_MESSAGE(contains(error.what(), server.socket.string()), error.what());
		CHECK_MESSAGE(contains(error.what(), "send"), error.what());
	}
	SUBCASE("send after close")
	{
		drpc::ClientConnection client(server.socket);
		client.connect();
		client.close();
		const auto error = thrown<drpc::SystemError>([&] { (void)client.send_msg(make_call(echo_id, 0)); });
		CHECK(error.code() == ENOTCONN);
	}
	SUBCASE("send to a server that has gone")
	{
		// Connected through the listen backlog; closing the listener resets
		// the connection before anyone accepted it.
		const auto gone = server.dir / "gone.sock";
		const int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		REQUIRE(listener >= 0);
		sockaddr_un address{};
		address.sun_family = AF_UNIX;
		std::strncpy(address.sun_path, gone.c_str(), sizeof(address.sun_path) - 1);
		REQUIRE(::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0);
		REQUIRE(::listen(listener, 4) == 0);
		drpc::ClientConnection client(gone);
		client.connect();
		::close(listener);
		const auto error = thrown<drpc::SystemError>([&] { (void)client.send_msg(make_call(echo_id, 0)); });
		const std::string what = error.what();
		CHECK_MESSAGE(contains(what, gone.string()), what);
		CHECK_MESSAGE(contains(what, "send chunk 1/1"), what);
		// the errno text once, not once per layer
		const std::string errno_text = std::strerror(error.code());
		CHECK_MESSAGE(what.find(errno_text) == what.rfind(errno_text), what);
		CHECK_FALSE(client.is_connected());
	}
	SUBCASE("connect to a missing socket")
	{
		const auto missing = server.dir / "missing.sock";
		drpc::ClientConnection client(missing);
		const auto error = thrown<drpc::SystemError>([&] { client.connect(); });
		CHECK(error.code() == ENOENT);
		CHECK_MESSAGE(contains(error.what(), missing.string()), error.what());
		CHECK_MESSAGE(contains(error.what(), "connect"), error.what());
		CHECK_FALSE(client.is_connected());
	}
	SUBCASE("connect to a path too long for a socket")
	{
		drpc::ClientConnection client(server.dir / std::string(120, 'p'));
		const auto error = thrown<drpc::Error>([&] { client.connect(); });
		CHECK_MESSAGE(contains(error.what(), std::string(120, 'p')), error.what());
		CHECK_FALSE(client.is_connected());
	}
}

TEST_CASE("client: a call past its deadline throws TimeoutError and closes the connection")
{
	Server server;
	SUBCASE("the connection's deadline")
	{
		drpc::ClientConnection client(server.socket, drpc::ClientOptions{.call_timeout = 100ms});
		client.connect();
		const auto error =
			thrown<drpc::TimeoutError>([&] { (void)client.send_msg(make_call(gate_id, 0, "x")); });
		CHECK_MESSAGE(contains(error.what(), server.socket.string()), error.what());
		CHECK_FALSE(client.is_connected());
		// a late answer cannot be taken for the next call's
		server.gate->open();
		client.connect();
		const drpc::Response response = client.send_msg(make_call(gate_id, 0, "y"));
		CHECK(response.status() == drpc::Status::SUCCESS);
		CHECK(response.sequence() == 1);
		CHECK(response.body() == "y");
	}
	SUBCASE("a deadline for one call")
	{
		drpc::ClientConnection client(server.socket);
		client.connect();
		CHECK_THROWS_AS((void)client.send_msg(make_call(gate_id, 0), 100ms), drpc::TimeoutError);
		CHECK_FALSE(client.is_connected());
		CHECK(server.gate->wait_entered(1));
	}
}

TEST_CASE("client: the deadline also covers sending to a server that does not read")
{
	// A call larger than the socket buffers cannot be sent whole while the
	// server reads nothing: the deadline must end the wait all the same.
	FakeServer stalled;
	drpc::ClientConnection client(stalled.socket(), drpc::ClientOptions{.call_timeout = 100ms});
	client.connect();
	const auto error = thrown<drpc::TimeoutError>(
		[&] { (void)client.send_msg(make_call(1, 0, std::string(size_t{4} << 20, 's'))); });
	CHECK_MESSAGE(contains(error.what(), stalled.socket().string()), error.what());
	CHECK_FALSE(client.is_connected());
}

TEST_CASE("client: statuses other than SUCCESS are returned, not thrown")
{
	Server server;
	drpc::ClientConnection client(server.socket);
	client.connect();
	struct Case {
		const char *name;
		drpc::Call call;
		int status;
	};
	const std::vector<Case> cases = {
		{"handler failure", make_call(echo_id, 2, "body"), drpc::Status::FAILURE},
		{"handler throws", make_call(echo_id, 1), drpc::Status::FAILURE},
		{"unknown method", make_call(echo_id, 99), drpc::Status::UNKNOWN_METHOD},
		{"unknown module", make_call(4242, 0), drpc::Status::UNKNOWN_MODULE},
		{"bad payload", make_call(hello_id, 0, "\xff"), drpc::Status::FAILED_UNMARSHAL_PAYLOAD},
		{"unnamed status", make_call(echo_id, 3, "\x2a"), 42},
		{"SUBMITTED", make_call(echo_id, 3, "\x01"), drpc::Status::SUBMITTED},
	};
	int64_t sequence = 0;
	for (const Case &c : cases) {
		CAPTURE(c.name);
		const drpc::Response response = client.send_msg(c.call);
		CHECK(static_cast<int>(response.status()) == c.status);
		CHECK(response.body().empty());
		CHECK(response.sequence() == ++sequence);
		CHECK(client.is_connected());
	}
	CHECK(client.send_msg(make_call(echo_id, 0, "still fine")).body() == "still fine");
}

TEST_CASE("client: large calls and answers")
{
	Server server;
	drpc::ClientConnection client(server.socket);
	client.connect();
	for (const size_t size : {size_t{131048}, size_t{131049}, size_t{1} << 20, size_t{3} << 20}) {
		CAPTURE(size);
		std::string body(size, '\0');
		for (size_t i = 0; i < size; ++i)
			body[i] = static_cast<char>(i * 13 + size);
		const drpc::Response response = client.send_msg(make_call(echo_id, 0, body));
		CHECK(response.status() == drpc::Status::SUCCESS);
		CHECK(response.body() == body);
	}
}

TEST_CASE("client: an answer over max_message_bytes is refused")
{
	Server server;
	drpc::ClientConnection client(server.socket, drpc::ClientOptions{.max_message_bytes = 1000});
	client.connect();
	CHECK(client.send_msg(make_call(echo_id, 0, std::string(900, 'a'))).body() == std::string(900, 'a'));
	const auto error = thrown<drpc::ProtocolError>(
		[&] { (void)client.send_msg(make_call(echo_id, 0, std::string(1000, 'a'))); });
	CHECK_MESSAGE(contains(error.what(), "over the limit of 1000"), error.what());
	CHECK_MESSAGE(contains(error.what(), server.socket.string()), error.what());
	CHECK_FALSE(client.is_connected());
}

TEST_CASE("client: one connection shared by 8 threads")
{
	constexpr int threads = 8;
	constexpr int calls = 200;
	Server server;
	drpc::ClientConnection client(server.socket);
	client.connect();
	std::atomic<int> wrong{0}, failed{0};
	std::mutex sequences_mutex;
	std::vector<int64_t> sequences;
	std::vector<std::thread> workers;
	for (int t = 0; t < threads; ++t) {
		workers.emplace_back([&, t] {
			std::vector<int64_t> mine;
			for (int i = 0; i < calls; ++i) {
				const std::string body = "thread " + std::to_string(t) + " call " + std::to_string(i);
				try {
					const drpc::Response response = client.send_msg(make_call(echo_id, 0, body));
					if (response.status() != drpc::Status::SUCCESS || response.body() != body)
						wrong.fetch_add(1);
					mine.push_back(response.sequence());
				} catch (const std::exception &) {
					failed.fetch_add(1);
				}
			}
			const std::lock_guard lock(sequences_mutex);
			sequences.insert(sequences.end(), mine.begin(), mine.end());
		});
	}
	for (auto &w : workers)
		w.join();
	CHECK(failed == 0);
	CHECK(wrong == 0);
	std::sort(sequences.begin(), sequences.end());
	std::vector<int64_t> expected(threads * calls);
	std::iota(expected.begin(), expected.end(), 1);
	CHECK(sequences == expected);
}

TEST_CASE("client: a server breaking the protocol")
{
	SUBCASE("wrong sequence")
	{
		FakeServer fake([](int fd, int64_t sequence) {
			send_bytes(fd, response_bytes(sequence + 1, drpc::Status::SUCCESS, "stale"));
		});
		drpc::ClientConnection client(fake.socket());
		client.connect();
		const auto error = thrown<drpc::ProtocolError>([&] { (void)client.send_msg(make_call(1, 0)); });
		CHECK_MESSAGE(contains(error.what(), "sequence 2"), error.what());
		CHECK_MESSAGE(contains(error.what(), fake.socket().string()), error.what());
		CHECK_FALSE(client.is_connected());
	}
	SUBCASE("garbage instead of a Response")
	{
		FakeServer fake([](int fd, int64_t) { send_bytes(fd, "\x08\x01\xff\xff"); });
		drpc::ClientConnection client(fake.socket());
		client.connect();
		const auto error = thrown<drpc::ProtocolError>([&] { (void)client.send_msg(make_call(1, 0)); });
		CHECK_MESSAGE(contains(error.what(), "does not decode"), error.what());
		CHECK_FALSE(client.is_connected());
	}
	SUBCASE("broken framing")
	{
		FakeServer fake([](int fd, int64_t) {
			const std::string record = test::make_record(10, 10, 1, 1, "0123456789");
			(void)::send(fd, record.data(), record.size(), MSG_NOSIGNAL);
		});
		drpc::ClientConnection client(fake.socket());
		client.connect();
		const auto error = thrown<drpc::ProtocolError>([&] { (void)client.send_msg(make_call(1, 0)); });
		CHECK_MESSAGE(contains(error.what(), "chunk_idx is 1"), error.what());
		CHECK_FALSE(client.is_connected());
	}
	SUBCASE("a header claiming 2^40 bytes")
	{
		FakeServer fake([](int fd, int64_t) {
			const std::string record = test::make_record(uint64_t{1} << 40, 4, 0, 3, "\x08\x01\x10\x00");
			(void)::send(fd, record.data(), record.size(), MSG_NOSIGNAL);
		});
		drpc::ClientConnection client(fake.socket(), drpc::ClientOptions{.max_message_bytes = size_t{1} << 20});
		client.connect();
		const auto error = thrown<drpc::ProtocolError>([&] { (void)client.send_msg(make_call(1, 0)); });
		CHECK_MESSAGE(contains(error.what(), "over the limit"), error.what());
		CHECK_FALSE(client.is_connected());
	}
	SUBCASE("closing instead of answering")
	{
		FakeServer fake([](int fd, int64_t) { ::shutdown(fd, SHUT_RDWR); });
		drpc::ClientConnection client(fake.socket());
		client.connect();
		const auto error = thrown<drpc::SystemError>([&] { (void)client.send_msg(make_call(1, 0)); });
		CHECK_MESSAGE(contains(error.what(), "receive"), error.what());
		CHECK_FALSE(client.is_connected());
	}
	SUBCASE("a non-SUCCESS answer with a body is still returned")
	{
		FakeServer fake([](int fd, int64_t sequence) {
			send_bytes(fd, response_bytes(sequence, static_cast<drpc::Status>(-7), "odd"));
		});
		drpc::ClientConnection client(fake.socket());
		client.connect();
		const drpc::Response response = client.send_msg(make_call(1, 0));
		CHECK(static_cast<int>(response.status()) == -7);
		CHECK(response.body() == "odd");
		CHECK(response.sequence() == 1);
		CHECK(client.is_connected());
	}
}
