// SPDX-License-Identifier: Apache-2.0
// Modules that answer later, from another thread (drpc/deferred_answer.hpp):
// the answer, the order of a session's answers, the session's lifetime, a
// client that does not read, shutdown and a retired module's drain.
#include "server_fixture.hpp"
#include "test_support.hpp"

#include <drpc/client.hpp>
#include <drpc/deferred_answer.hpp>
#include <drpc/message.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <sched.h>
#include <string>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

using test::eventually;
using test::make_call;

constexpr int32_t later_id = 2000;
constexpr int32_t inline_policy_id = 2001;

/// The calling thread's scheduling policy and id: "policy/tid".
std::string where_called() { return std::to_string(::sched_getscheduler(0)) + "/" + std::to_string(::gettid()); }

/// Answers where_called() inline.
class InlinePolicyModule final : public drpc::Module {
public:
	int32_t id() const noexcept override { return inline_policy_id; }
	drpc::Status handle_call(const drpc::CallContext &, std::span<const uint8_t>, drpc::ResponseBody &out) override
	{
		return out.assign(where_called()) ? drpc::Status::SUCCESS : drpc::Status::FAILURE;
	}
};

/// Method 0: kept for the test to answer (take()); 1: answered at once in
/// start_call(); 2: throws without taking its answer; 3: takes its answer
/// and drops it; 4: answered at once with where_called().
class LaterModule final : public drpc::Module {
public:
	struct Pending {
		drpc::DeferredAnswer answer;
		std::string body;
	};

	int32_t id() const noexcept override { return later_id; }
	bool answers_later() const noexcept override { return true; }
	drpc::Status handle_call(const drpc::CallContext &, std::span<const uint8_t>, drpc::ResponseBody &) override
	{
		FAIL("handle_call() called on a module that answers later");
		return drpc::Status::FAILURE;
	}
	void start_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                drpc::DeferredAnswer &answer) override
	{
		std::string copy(reinterpret_cast<const char *>(body.data()), body.size());
		switch (context.method) {
		case 0: {
			const std::lock_guard lock(mutex_);
			pending_.push_back({std::move(answer), std::move(copy)});
			changed_.notify_all();
			return;
		}
		case 1:
			REQUIRE(answer.body().assign("now:" + copy));
			answer.answer(drpc::Status::SUCCESS);
			return;
		case 2:
			throw std::runtime_error("start_call failed");
		case 4:
			REQUIRE(answer.body().assign(where_called()));
			answer.answer(drpc::Status::SUCCESS);
			return;
		default: {
			drpc::DeferredAnswer dropped = std::move(answer);
			return;
		}
		}
	}

	/// The next call kept, waiting up to 10 s for one.
	std::optional<Pending> take()
	{
		std::unique_lock lock(mutex_);
		if (!changed_.wait_for(lock, 10s, [this] { return !pending_.empty(); }))
			return std::nullopt;
		Pending next = std::move(pending_.front());
		pending_.pop_front();
		return next;
	}

private:
	std::mutex mutex_;
	std::condition_variable changed_;
	std::deque<Pending> pending_;
};

struct LaterFixture : test::Fixture {
	explicit LaterFixture(drpc::ServerOptions options = {}) : test::Fixture(options)
	{
		server->register_module(later);
	}
	std::shared_ptr<LaterModule> later = std::make_shared<LaterModule>();
};

void answer_with(LaterModule::Pending &pending, const std::string &body)
{
	REQUIRE(pending.answer.body().assign(body));
	pending.answer.answer(drpc::Status::SUCCESS);
}

std::string encoded_call(int32_t module, int32_t method, int64_t sequence, const std::string &body)
{
	drpc::Call call = make_call(module, method, body);
	call.set_sequence(sequence);
	return call.SerializeAsString();
}

drpc::Response decoded_response(const std::optional<std::string> &message)
{
	REQUIRE(message.has_value());
	drpc::Response response;
	REQUIRE(response.ParseFromString(*message));
	return response;
}

} // namespace

TEST_CASE("a module that answers later is answered from another thread, and the session goes on")
{
	LaterFixture fixture;
	drpc::ClientConnection client(fixture.socket());
	client.connect();
	auto response = std::async(std::launch::async, [&] { return client.send_msg(make_call(later_id, 0, "x")); });
	std::optional<LaterModule::Pending> pending = fixture.later->take();
	REQUIRE(pending);
	CHECK(pending->body == "x");
	CHECK(response.wait_for(50ms) == std::future_status::timeout);
	std::thread([&] { answer_with(*pending, "later:x"); }).join();
	const drpc::Response answered = response.get();
	CHECK(answered.status() == drpc::Status::SUCCESS);
	CHECK(answered.body() == "later:x");
	CHECK(answered.sequence() == 1);

	const drpc::Response now = client.send_msg(make_call(later_id, 1, "y"));
	CHECK(now.status() == drpc::Status::SUCCESS);
	CHECK(now.body() == "now:y");
	CHECK(client.send_msg(make_call(1000, 0, "echo")).body() == "echo");
	CHECK(fixture.server->stats().calls_served == 3);
}

TEST_CASE(
	"a session that hands calls over runs its thread SCHED_BATCH, and the thread goes back to its pool as it came")
{
	drpc::ServerOptions options;
	options.park_after = 60s; // one run() per session: no thread change between calls
	LaterFixture fixture(options);
	fixture.server->register_module(std::make_shared<InlinePolicyModule>());
	const std::string other = std::to_string(SCHED_OTHER) + "/";
	const std::string batch = std::to_string(SCHED_BATCH) + "/";

	drpc::ClientConnection forwarding(fixture.socket());
	forwarding.connect();
	const std::string before = forwarding.send_msg(make_call(inline_policy_id, 0)).body();
	CHECK(before.starts_with(other)); // not until it hands a call over
	const std::string thread = before.substr(other.size());
	CHECK(forwarding.send_msg(make_call(later_id, 4)).body() == batch + thread);
	// The rest of that session's calls, inline ones too (forwarding_policy.hpp).
	CHECK(forwarding.send_msg(make_call(inline_policy_id, 0)).body() == batch + thread);
	forwarding.close();

	// The next session gets the same pooled thread, as it came.
	std::this_thread::sleep_for(200ms);
	drpc::ClientConnection next(fixture.socket());
	next.connect();
	CHECK(next.send_msg(make_call(inline_policy_id, 0)).body() == other + thread);
}

TEST_CASE("an answer the module does not give is FAILURE, and the session goes on")
{
	LaterFixture fixture;
	drpc::ClientConnection client(fixture.socket());
	client.connect();
	CHECK(client.send_msg(make_call(later_id, 2)).status() == drpc::Status::FAILURE); // threw
	CHECK(client.send_msg(make_call(later_id, 3)).status() == drpc::Status::FAILURE); // dropped
	auto response = std::async(std::launch::async, [&] { return client.send_msg(make_call(later_id, 0)); });
	std::optional<LaterModule::Pending> pending = fixture.later->take();
	REQUIRE(pending);
	pending->answer.answer(drpc::Status::FAILED_UNMARSHAL_PAYLOAD);
	pending->answer.answer(drpc::Status::SUCCESS); // an emptied handle answers nothing
	CHECK(response.get().status() == drpc::Status::FAILED_UNMARSHAL_PAYLOAD);
	// A body reserved for an answer that is not SUCCESS is not sent.
	auto second = std::async(std::launch::async, [&] { return client.send_msg(make_call(later_id, 0)); });
	pending = fixture.later->take();
	REQUIRE(pending);
	REQUIRE(pending->answer.body().assign("unsent"));
	pending->answer.answer(drpc::Status::FAILURE);
	const drpc::Response failed = second.get();
	CHECK(failed.status() == drpc::Status::FAILURE);
	CHECK(failed.body().empty());
	CHECK(client.send_msg(make_call(1000, 0, "still")).body() == "still");
}

TEST_CASE("a client that sends before its answer is in gets its answers in order")
{
	LaterFixture fixture;
	test::RawConnection raw(fixture.socket());
	raw.send_message(encoded_call(later_id, 0, 1, "first"));
	raw.send_message(encoded_call(1000, 0, 2, "second"));
	std::optional<LaterModule::Pending> pending = fixture.later->take();
	REQUIRE(pending);
	// The echo waits behind the answer that is out.
	CHECK_FALSE(raw.receive_message(200).has_value());
	answer_with(*pending, "first answered");
	const drpc::Response one = decoded_response(raw.receive_message());
	CHECK(one.sequence() == 1);
	CHECK(one.body() == "first answered");
	const drpc::Response two = decoded_response(raw.receive_message());
	CHECK(two.sequence() == 2);
	CHECK(two.body() == "second");
}

TEST_CASE("a large answer goes out without the answering thread waiting for the client")
{
	drpc::ServerOptions options;
	options.max_message_bytes = size_t{8} << 20;
	LaterFixture fixture(options);
	test::RawConnection raw(fixture.socket());
	raw.send_message(encoded_call(later_id, 0, 7, "big"));
	std::optional<LaterModule::Pending> pending = fixture.later->take();
	REQUIRE(pending);
	std::string body(size_t{4} << 20, '\0');
	for (size_t i = 0; i < body.size(); ++i)
		body[i] = static_cast<char>('a' + i % 23);
	// The client reads nothing until answer() has returned: it must not block.
	auto answered = std::async(std::launch::async, [&] { answer_with(*pending, body); });
	REQUIRE(answered.wait_for(10s) == std::future_status::ready);
	answered.get();
	const drpc::Response response = decoded_response(raw.receive_message());
	CHECK(response.sequence() == 7);
	CHECK(response.status() == drpc::Status::SUCCESS);
	CHECK(response.body() == body);
	// And the session goes on.
	raw.send_message(encoded_call(1000, 0, 8, "after"));
	CHECK(decoded_response(raw.receive_message()).body() == "after");
}

TEST_CASE("a client that does not take its large answer is closed at send_timeout, and nobody else waits")
{
	drpc::ServerOptions options;
	options.max_message_bytes = size_t{8} << 20;
	options.send_timeout = 300ms;
	LaterFixture fixture(options);
	test::RawConnection stalled(fixture.socket());
	stalled.send_message(encoded_call(later_id, 0, 1, "big"));
	std::optional<LaterModule::Pending> big = fixture.later->take();
	REQUIRE(big);
	answer_with(*big, std::string(size_t{4} << 20, 'z'));

	// Another client's answers, given by the same thread, go through meanwhile.
	drpc::ClientConnection other(fixture.socket());
	other.connect();
	for (int i = 0; i < 3; ++i) {
		auto response = std::async(std::launch::async, [&] { return other.send_msg(make_call(later_id, 0)); });
		std::optional<LaterModule::Pending> small = fixture.later->take();
		REQUIRE(small);
		answer_with(*small, "small");
		CHECK(response.get().body() == "small");
	}
	CHECK(eventually([&] { return fixture.server->stats().closed_send_timeout == 1; }));
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 1; }));
	CHECK(other.send_msg(make_call(1000, 0, "alive")).body() == "alive");
}

TEST_CASE("a session whose client left closes once its answer is given")
{
	LaterFixture fixture;
	std::optional<LaterModule::Pending> pending;
	{
		test::RawConnection raw(fixture.socket());
		raw.send_message(encoded_call(later_id, 0, 1, "gone"));
		pending = fixture.later->take();
		REQUIRE(pending);
	}
	std::this_thread::sleep_for(100ms);
	CHECK(fixture.server->stats().sessions_open == 1);
	answer_with(*pending, "to nobody");
	CHECK(eventually([&] { return fixture.server->stats().sessions_open == 0; }));
}

TEST_CASE("shutdown waits for an answer that is out")
{
	LaterFixture fixture;
	drpc::ClientConnection client(fixture.socket());
	client.connect();
	auto response = std::async(std::launch::async, [&] { return client.send_msg(make_call(later_id, 0, "q")); });
	std::optional<LaterModule::Pending> pending = fixture.later->take();
	REQUIRE(pending);
	CHECK_FALSE(fixture.server->shutdown(200ms));
	answer_with(*pending, "in time");
	CHECK(response.get().body() == "in time");
	CHECK(fixture.server->shutdown());
}

TEST_CASE("a module replaced while its call is out drains when the call is answered, not when it is sent")
{
	LaterFixture fixture;
	drpc::ClientConnection client(fixture.socket());
	client.connect();
	auto response = std::async(std::launch::async, [&] { return client.send_msg(make_call(later_id, 0, "r")); });
	std::optional<LaterModule::Pending> pending = fixture.later->take();
	REQUIRE(pending);
	drpc::ModuleRegistry::Retired retired =
		fixture.server->modules().replace(later_id, std::make_shared<test::EchoModule>(later_id));
	CHECK(retired.calls_in_flight() == 1);
	CHECK_FALSE(retired.wait_drained(std::chrono::steady_clock::now() + 100ms));
	answer_with(*pending, "old module");
	CHECK(retired.wait_drained(std::chrono::steady_clock::now() + 10s));
	CHECK(response.get().body() == "old module");
	CHECK(client.send_msg(make_call(later_id, 0, "new module")).body() == "new module");
}

TEST_CASE("an empty handle answers nothing and its body refuses every buffer")
{
	drpc::DeferredAnswer empty;
	CHECK_FALSE(empty);
	CHECK(empty.body().reserve(16).empty());
	CHECK_FALSE(empty.body().assign("x"));
	empty.answer(drpc::Status::SUCCESS); // nothing to answer: no crash
	CHECK_FALSE(empty);
}
