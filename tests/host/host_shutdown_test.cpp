// SPDX-License-Identifier: Apache-2.0
// A real drpc-host stopped by SIGTERM while only slow clients hold it: one
// that never reads the answers to its large calls, one stalled halfway
// through a message. It must exit 0 promptly, not wait out its shutdown
// timeout.
#include "host_process.hpp"
#include "host_support.hpp"

#include <drpc/error.hpp>
#include <drpc/framing.hpp>
#include <drpc/message.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <future>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;

/// A connected SOCK_SEQPACKET socket to `path`; closed on destruction.
struct Connection {
	explicit Connection(const std::filesystem::path &path) : fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0))
	{
		REQUIRE(fd >= 0);
		sockaddr_un address{};
		address.sun_family = AF_UNIX;
		const std::string text = path.string();
		REQUIRE(text.size() < sizeof(address.sun_path));
		text.copy(address.sun_path, text.size());
		REQUIRE(::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address)) == 0);
	}
	~Connection() { ::close(fd); }
	Connection(const Connection &) = delete;
	Connection &operator=(const Connection &) = delete;

	int fd;
};

std::string echo_call(size_t body_bytes, int64_t sequence)
{
	drpc::Call call;
	call.set_module(4242); // the good test plugin; method 0 echoes
	call.set_method(0);
	call.set_sequence(sequence);
	call.set_body(std::string(body_bytes, 'e'));
	return call.SerializeAsString();
}

std::span<const uint8_t> bytes(const std::string &text)
{
	return {reinterpret_cast<const uint8_t *>(text.data()), text.size()};
}

} // namespace

TEST_CASE("drpc-host: SIGTERM with only slow clients connected exits 0 promptly")
{
	host_test::TempDir dir;
	const auto plugins = dir / "plugins";
	std::filesystem::create_directory(plugins);
	std::filesystem::permissions(plugins, std::filesystem::perms(0755));
	host_test::install_plugin(plugins, "good");
	// Every timeout that could end the slow clients on its own is far past
	// the test: only the shutdown may end them.
	host_test::write_file(dir / "host.json", R"({
		"socket": {"path": "host.sock"},
		"server": {"shutdown_timeout_ms": 120000},
		"limits": {"send_timeout_ms": 3600000, "message_timeout_ms": 3600000}
	})");
	const auto socket = dir / "host.sock";
	host_test::HostProcess host({"--config", (dir / "host.json").string(), "--plugins", plugins.string()},
	                            dir / "stderr");
	REQUIRE(host.wait_for_socket(socket));

	// 1 MiB echo calls whose answers are never read: the host's answer
	// blocks once the socket buffers are full, and so do this client's sends.
	Connection deaf(socket);
	std::atomic<int> sent{0};
	auto sending = std::async(std::launch::async, [&] {
		try {
			for (int i = 0; i < 64; ++i) {
				drpc::framing::send_message(deaf.fd, bytes(echo_call(size_t{1} << 20, i)));
				++sent;
			}
		} catch (const drpc::Error &) {
			// the host closed the connection
		}
	});
	// The first chunk of a three-chunk message, and nothing more.
	Connection stalled(socket);
	const uint64_t total = 3 * drpc::framing::max_chunk_data;
	std::string record(drpc::framing::max_record_size, 's');
	drpc::framing::encode_header({total, drpc::framing::max_chunk_data, 0, 3},
	                             reinterpret_cast<uint8_t *>(record.data()));
	REQUIRE(::send(stalled.fd, record.data(), record.size(), MSG_NOSIGNAL) == ssize_t(record.size()));

	// The deaf client is stuck: a few calls went out, then its sends block.
	std::this_thread::sleep_for(500ms);
	const int sent_before = sent.load();
	std::this_thread::sleep_for(300ms);
	REQUIRE(sent.load() == sent_before);
	REQUIRE(sent_before < 64);

	const auto signalled = std::chrono::steady_clock::now();
	host.signal(SIGTERM);
	CHECK(host.wait() == 0);
	const auto took = std::chrono::steady_clock::now() - signalled;
	const std::string log = host_test::read_file(dir / "stderr");
	INFO("stderr: ", log);
	INFO("exited after ", std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), " ms");
	// The shutdown timeout is 120 s; the host cuts unread answers after one
	// 50 ms interval. 20 s leaves room for a loaded machine.
	CHECK(took < 20s);
	CHECK(log.find("at the shutdown deadline") == std::string::npos);
	CHECK_FALSE(std::filesystem::exists(socket));
	sending.get();
}
