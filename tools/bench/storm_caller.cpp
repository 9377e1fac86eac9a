// SPDX-License-Identifier: Apache-2.0
// Storm calls: each answer checked for which build gave it, failures
// counted rather than thrown so that one bad reload does not end the storm.
#include "storm_caller.hpp"

#include <drpc/error.hpp>
#include <drpc/status.hpp>

#include <pthread.h>
#include <thread>

namespace drpc::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int32_t storm_echo_method = 0;
/// Long enough for any reload on a loaded machine; only keeps a wedged
/// server from hanging the bench.
constexpr std::chrono::milliseconds call_timeout{10'000};
/// Between probe calls: fine next to a reload's tens of milliseconds,
/// without the probe taking a CPU from the load.
constexpr std::chrono::microseconds probe_interval{200};

} // namespace

std::optional<StormBuild> AnswerTally::record(const Response &response, const std::string &body)
{
	calls_.fetch_add(1, std::memory_order_relaxed);
	if (response.status() != Status::SUCCESS) {
		failed_.fetch_add(1, std::memory_order_relaxed);
		note("call answered " + to_string(response.status()));
		return std::nullopt;
	}
	const std::string &answer = response.body();
	if (answer.size() == body.size() + 1 && (answer[0] == 'A' || answer[0] == 'B') &&
	    answer.compare(1, std::string::npos, body) == 0)
		return static_cast<StormBuild>(answer[0]);
	foreign_.fetch_add(1, std::memory_order_relaxed);
	note("an answer of " + std::to_string(answer.size()) + " bytes that is neither \"A\" nor \"B\" and the " +
	     std::to_string(body.size()) + "-byte body");
	return std::nullopt;
}

void AnswerTally::record_error(const std::string &what)
{
	calls_.fetch_add(1, std::memory_order_relaxed);
	failed_.fetch_add(1, std::memory_order_relaxed);
	note(what);
}

AnswerTally::Counts AnswerTally::counts() const noexcept { return {calls_.load(), failed_.load(), foreign_.load()}; }

std::string AnswerTally::first_problem() const
{
	const std::lock_guard lock(mutex_);
	return first_problem_;
}

void AnswerTally::note(const std::string &what)
{
	const std::lock_guard lock(mutex_);
	if (first_problem_.empty())
		first_problem_ = what;
}

StormConnection::StormConnection(const std::filesystem::path &socket_path, std::string body, AnswerTally &tally)
	: connection_(socket_path, ClientOptions{.call_timeout = call_timeout}), tally_(tally)
{
	call_.set_module(storm_module_id);
	call_.set_method(storm_echo_method);
	call_.set_body(std::move(body));
	connection_.connect();
}

std::optional<StormBuild> StormConnection::call()
{
	// A failed call closed the connection; a storm goes on with a new one.
	if (!connection_.is_connected())
		connection_.connect();
	try {
		return tally_.record(connection_.send_msg(call_), call_.body());
	} catch (const drpc::Error &e) {
		tally_.record_error(e.what());
		return std::nullopt;
	}
}

StormCaller::StormCaller(const std::filesystem::path &socket_path, unsigned index, AnswerTally &tally)
	: connection_(socket_path, "load " + std::to_string(index), tally)
{
}

BuildProbe::BuildProbe(const std::filesystem::path &socket_path, AnswerTally &tally)
	: connection_(socket_path, "probe", tally)
{
	thread_ = std::thread(&BuildProbe::poll, this);
}

BuildProbe::~BuildProbe() { stop(); }

void BuildProbe::stop() noexcept
{
	{
		const std::lock_guard lock(mutex_);
		stopping_ = true;
	}
	changed_.notify_all();
	if (thread_.joinable())
		thread_.join();
}

std::string BuildProbe::error() const
{
	const std::lock_guard lock(mutex_);
	return error_;
}

void BuildProbe::poll() noexcept
{
	::pthread_setname_np(::pthread_self(), "storm-probe");
	try {
		for (;;) {
			const std::optional<StormBuild> answered = connection_.call();
			const Clock::time_point received = Clock::now();
			{
				const std::lock_guard lock(mutex_);
				if (stopping_)
					return;
				// A failed call says nothing of which build serves.
				if (answered && answered != current_) {
					current_ = answered;
					since_ = received;
					changed_.notify_all();
				}
			}
			std::this_thread::sleep_for(probe_interval);
		}
	} catch (const std::exception &e) {
		const std::lock_guard lock(mutex_);
		error_ = std::string("probe: ") + e.what();
		stopping_ = true;
	}
	changed_.notify_all();
}

std::optional<Clock::time_point> BuildProbe::wait_for(StormBuild build, Clock::time_point since,
                                                      Clock::time_point deadline)
{
	std::unique_lock lock(mutex_);
	const bool seen = changed_.wait_until(lock, deadline,
	                                      [&] { return stopping_ || (current_ == build && since_ >= since); });
	if (!seen || current_ != build || since_ < since)
		return std::nullopt;
	return since_;
}

} // namespace drpc::bench
