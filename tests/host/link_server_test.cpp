// SPDX-License-Identifier: Apache-2.0
// The worker's side of the host's link: the message rings serve the host's
// own connection (its SO_PEERCRED pid), not whichever process connects
// first; a connection whose call-ring reader cannot start is closed, so that
// the host sees its link end and restarts the worker, instead of leaving its
// calls in a ring nobody reads; the ring's calls run SCHED_BATCH, the
// socket's do not.
//
// An executable of its own: it interposes pthread_create (exported, so that
// libstdc++'s std::thread finds it first) to refuse threads on cue, which
// is the only way to make a LinkServer fail to start a reader on purpose.
#include <isolation/link_server.hpp>
#include <isolation/message_ring.hpp>
#include <isolation/shared_region.hpp>

#include <drpc/codec.hpp>
#include <drpc/framing.hpp>
#include <drpc/module.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <dlfcn.h>
#include <memory>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using drpc::host::isolation::LinkServer;
using drpc::host::isolation::MessageRing;
using drpc::host::isolation::SharedRegion;

namespace {

/// Threads that may still start; negative: any number.
std::atomic<int> threads_allowed{-1};

/// Refuses threads past a budget for as long as it lives.
class ThreadBudget {
public:
	explicit ThreadBudget(int threads) { threads_allowed.store(threads); }
	~ThreadBudget() { threads_allowed.store(-1); }
	ThreadBudget(const ThreadBudget &) = delete;
	ThreadBudget &operator=(const ThreadBudget &) = delete;
};

} // namespace

extern "C" int pthread_create(pthread_t *thread, const pthread_attr_t *attributes, void *(*start)(void *),
                              void *argument) noexcept
{
	using Create = int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	static const auto real = reinterpret_cast<Create>(::dlsym(RTLD_NEXT, "pthread_create"));
	int allowed = threads_allowed.load();
	while (allowed >= 0) {
		if (allowed == 0)
			return EAGAIN; // what glibc says when no thread can be made
		if (threads_allowed.compare_exchange_weak(allowed, allowed - 1))
			break;
	}
	return real(thread, attributes, start, argument);
}

namespace {

constexpr int32_t peer_module_id = 7;
constexpr auto answer_deadline = std::chrono::seconds(10);

/// Answers the pid of the connection its call came on and the scheduling
/// policy of the thread it runs on: "pid/policy".
class PeerModule final : public drpc::Module {
public:
	[[nodiscard]] int32_t id() const noexcept override { return peer_module_id; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t>,
	                         drpc::ResponseBody &out) override
	{
		const std::string answer =
			std::to_string(context.peer.pid) + "/" + std::to_string(::sched_getscheduler(0));
		const std::span<uint8_t> buffer = out.reserve(answer.size());
		if (buffer.empty())
			return drpc::Status::FAILURE;
		std::memcpy(buffer.data(), answer.data(), answer.size());
		return drpc::Status::SUCCESS;
	}
};

/// A listening SOCK_SEQPACKET socket in the abstract namespace (nothing to
/// clean up), as the worker's is.
struct Listener {
	int fd = -1;
	sockaddr_un address{};
	socklen_t length = 0;
};

Listener listen_for_links()
{
	static int made = 0;
	Listener listener;
	listener.fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	REQUIRE(listener.fd >= 0);
	listener.address.sun_family = AF_UNIX;
	const std::string name = "drpc-link-server-test-" + std::to_string(::getpid()) + "-" + std::to_string(++made);
	std::memcpy(listener.address.sun_path + 1, name.data(), name.size()); // sun_path[0] == 0: abstract
	listener.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
	REQUIRE(::bind(listener.fd, reinterpret_cast<const sockaddr *>(&listener.address), listener.length) == 0);
	REQUIRE(::listen(listener.fd, 16) == 0);
	return listener;
}

/// A connection to `listener`; -1 on failure (async-signal-safe: a forked
/// child makes one).
int connect_to(const Listener &listener) noexcept
{
	const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (::connect(fd, reinterpret_cast<const sockaddr *>(&listener.address), listener.length) != 0) {
		::close(fd);
		return -1;
	}
	return fd;
}

std::shared_ptr<const SharedRegion> new_region()
{
	return std::make_shared<const SharedRegion>(SharedRegion::create("link-server-test"));
}

std::vector<std::shared_ptr<drpc::Module>> peer_module() { return {std::make_shared<PeerModule>()}; }

/// What PeerModule answers a call from this process run with `policy`.
std::string this_process_on(int policy) { return std::to_string(::getpid()) + "/" + std::to_string(policy); }

std::vector<uint8_t> encoded_call(int64_t sequence)
{
	const drpc::codec::CallView call{.module = peer_module_id, .method = 1, .sequence = sequence, .body = "pid?"};
	std::vector<uint8_t> encoded(drpc::codec::encoded_size(call));
	drpc::codec::encode_to(call, encoded.data());
	return encoded;
}

/// Waits for `fd` to be readable; true when it is within `answer_deadline`.
bool readable(int fd)
{
	pollfd watched{fd, POLLIN, 0};
	int ready;
	do
		ready = ::poll(&watched, 1, static_cast<int>(std::chrono::milliseconds(answer_deadline).count()));
	while (ready < 0 && errno == EINTR);
	return ready == 1;
}

/// The next answer in `answers`, decoded into `out`; false when none came
/// within `answer_deadline`.
bool pop_answer(MessageRing &answers, std::string &body, drpc::codec::ResponseView &out)
{
	const auto until = std::chrono::steady_clock::now() + answer_deadline;
	while (std::chrono::steady_clock::now() < until) {
		switch (answers.pop()) {
		case MessageRing::Result::done: {
			const std::span<const uint8_t> message = answers.message();
			const auto response = drpc::codec::decode_response(
				std::string_view(reinterpret_cast<const char *>(message.data()), message.size()));
			REQUIRE(response);
			out = *response;
			body.assign(response->body);
			out.body = body;
			return true;
		}
		case MessageRing::Result::broken:
			FAIL("the answer ring is broken: " << answers.fault());
			return false;
		default:
			answers.wait(std::chrono::milliseconds(100));
		}
	}
	return false;
}

/// A started LinkServer serving PeerModule, whose rings go to this
/// process's connection, and the host's sides of the rings.
struct ServedLink {
	ServedLink() { server.start(); }

	const std::shared_ptr<const SharedRegion> region = new_region();
	const Listener listener = listen_for_links();
	LinkServer server{listener.fd, peer_module(), size_t{1} << 20,
	                  region,      ::getpid(),    std::chrono::microseconds(100)};
	MessageRing calls{region->call_ring()};
	MessageRing answers{region->answer_ring()};
};

} // namespace

TEST_CASE("link server: a connection whose call-ring reader cannot start is closed, not left half served")
{
	ServedLink link;
	int client;
	bool closed = false;
	{
		// The socket's reader and its standby start; the ring's reader does not.
		const ThreadBudget budget(2);
		client = connect_to(link.listener);
		REQUIRE(client >= 0);
		closed = readable(client);
	}
	REQUIRE_MESSAGE(closed, "the connection stayed open without a reader for its call ring");
	char byte;
	CHECK(::recv(client, &byte, sizeof(byte), 0) == 0); // EOF: the link ended
	::close(client);
	CHECK(link.server.shutdown(std::chrono::seconds(5)));
}

TEST_CASE("link server: with every reader started, calls are answered; the ring's run SCHED_BATCH, the socket's do not")
{
	// The control for the case above: the same connection, with threads.
	ServedLink link;
	const int client = connect_to(link.listener);
	REQUIRE(client >= 0);

	REQUIRE(link.calls.push(encoded_call(42)) == MessageRing::Result::done);
	std::string body;
	drpc::codec::ResponseView answer;
	REQUIRE_MESSAGE(pop_answer(link.answers, body, answer), "no answer in the ring");
	CHECK(answer.sequence == 42);
	CHECK(answer.status == drpc::Status::SUCCESS);
	// The ring's reader runs its calls as a batch thread (link_server.cpp).
	CHECK(answer.body == this_process_on(SCHED_BATCH));

	// The socket's reader is left as it was (its answer, small, comes back
	// in the ring too).
	drpc::framing::send_message(client, encoded_call(44), 5000);
	REQUIRE_MESSAGE(pop_answer(link.answers, body, answer), "no answer to the call sent on the socket");
	CHECK(answer.sequence == 44);
	CHECK(answer.body == this_process_on(::sched_getscheduler(0)));
	::close(client);
	CHECK(link.server.shutdown(std::chrono::seconds(5)));
}

TEST_CASE("link server: the rings go to the host's own connection, not to whoever connects first")
{
	ServedLink link;

	// Another process (the plugin could be one) connects first and leaves:
	// had its connection taken the rings, they would end with it.
	const pid_t other = ::fork();
	REQUIRE(other >= 0);
	if (other == 0) {
		const int fd = connect_to(link.listener);
		::_exit(fd >= 0 ? 0 : 1);
	}
	int status = 0;
	REQUIRE(::waitpid(other, &status, 0) == other);
	REQUIRE(WIFEXITED(status));
	REQUIRE(WEXITSTATUS(status) == 0);

	const int host = connect_to(link.listener);
	REQUIRE(host >= 0);
	REQUIRE(link.calls.push(encoded_call(43)) == MessageRing::Result::done);

	std::string body;
	drpc::codec::ResponseView answer;
	REQUIRE_MESSAGE(pop_answer(link.answers, body, answer),
	                "the host's call through the ring was not answered: another connection had the rings");
	CHECK(answer.sequence == 43);
	CHECK(answer.status == drpc::Status::SUCCESS);
	// Served on the host's connection, whose peer is this process.
	CHECK(answer.body == this_process_on(SCHED_BATCH));
	::close(host);
	CHECK(link.server.shutdown(std::chrono::seconds(5)));
}
