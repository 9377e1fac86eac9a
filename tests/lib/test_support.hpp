// SPDX-License-Identifier: Apache-2.0
/// @file test_support.hpp
/// Helpers shared by libdrpc's tests: temp dirs, the wire vectors, a raw
/// SEQPACKET peer, and small modules.
#pragma once

#include "temp_dir.hpp"
#include "test_files.hpp"

#include <drpc/module.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace test {

/// A fresh directory under /tmp, removed with everything in it.
using TempDir = test_support::TempDir;

using test_support::read_file;
using test_support::vector_records;
/// The message they carry (their data parts joined).
[[nodiscard]] std::string vector_message(const std::string &name);

/// A raw SEQPACKET connection: sends and receives whole records.
class RawConnection {
public:
	explicit RawConnection(const std::filesystem::path &socket_path);
	~RawConnection();
	RawConnection(const RawConnection &) = delete;
	RawConnection &operator=(const RawConnection &) = delete;

	void send_record(const std::string &record);
	/// Next record, or nothing when the peer closed or `timeout_ms` passed.
	[[nodiscard]] std::optional<std::string> receive_record(int timeout_ms = 10000);
	/// Sends `message` chunked as drpc::framing does.
	void send_message(const std::string &message);
	/// Receives one whole chunked message (test peers only send small ones or well-formed ones).
	[[nodiscard]] std::optional<std::string> receive_message(int timeout_ms = 10000);
	/// True when the server has closed the connection (EOF within the timeout).
	[[nodiscard]] bool closed_by_peer(int timeout_ms = 10000);
	[[nodiscard]] int fd() const noexcept { return fd_; }

private:
	int fd_ = -1;
};

/// A chunk record: header fields plus data.
[[nodiscard]] std::string make_record(uint64_t total, uint64_t chunk_size, uint32_t idx, uint32_t chunks,
                                      const std::string &data);

/// DAOS's hello module: module 0, method 0 GREETING (hello.Hello -> HelloResponse).
class HelloModule : public drpc::Module {
public:
	int32_t id() const noexcept override { return 0; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;
};

/// Answers with its body; method 1 throws, method 2 writes a body and
/// answers FAILURE, method 3 answers the status given in its first byte.
class EchoModule : public drpc::Module {
public:
	explicit EchoModule(int32_t id = 1000) : id_(id) {}
	int32_t id() const noexcept override { return id_; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;
	std::atomic<int> last_peer_pid{0};

private:
	int32_t id_;
};

/// Blocks every call until open() is called; counts calls that entered.
class GateModule : public drpc::Module {
public:
	explicit GateModule(int32_t id = 2000) : id_(id) {}
	int32_t id() const noexcept override { return id_; }
	drpc::Status handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
	                         drpc::ResponseBody &out) override;
	void open();
	/// Waits until `n` calls have entered the handler.
	bool wait_entered(int n, int timeout_ms = 10000);

private:
	int32_t id_;
	std::mutex mutex_;
	std::condition_variable changed_;
	bool open_ = false;
	int entered_ = 0;
};

} // namespace test
