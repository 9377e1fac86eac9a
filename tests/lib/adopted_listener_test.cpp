// SPDX-License-Identifier: Apache-2.0
// ServerOptions::listen_fd, as systemd's socket activation uses it: the
// server serves a socket it did not create, refuses one of the wrong kind,
// and leaves it listening (and its file in place) when it shuts down.

#include "test_support.hpp"

#include <drpc/client.hpp>
#include <drpc/error.hpp>
#include <drpc/log.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

namespace {

/// A listening Unix socket of `type` at `path`, as systemd would pass it.
int listening_socket(int type, const std::filesystem::path &path, bool listen = true)
{
	const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
	REQUIRE(::bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address)) == 0);
	if (listen)
		REQUIRE(::listen(fd, 16) == 0);
	return fd;
}

drpc::ServerOptions adopting(const std::filesystem::path &path, int fd)
{
	drpc::ServerOptions options;
	options.socket_path = path;
	options.listen_fd = fd;
	return options;
}

} // namespace

TEST_CASE("a server serves an adopted SOCK_SEQPACKET socket and leaves it listening")
{
	drpc::log::set_level(drpc::log::Level::warn);
	test::TempDir dir;
	const auto path = dir / "activated.sock";
	const int fd = listening_socket(SOCK_SEQPACKET, path);
	// systemd keeps its own descriptor of the socket; so does this test.
	const int kept = ::dup(fd);
	REQUIRE(kept >= 0);
	{
		drpc::DomainSocketServer server(adopting(path, fd));
		server.register_module(std::make_shared<test::HelloModule>());
		server.start();
		drpc::ClientConnection client(path);
		client.connect();
		drpc::Call call;
		call.set_module(0);
		call.set_method(0);
		call.set_body(std::string("\x0a\x04") + "DAOS");
		const drpc::Response response = client.send_msg(call);
		CHECK(response.status() == drpc::Status::SUCCESS);
		CHECK(server.shutdown());
	}
	CHECK(std::filesystem::exists(path));
	// Still listening: a new connection is queued for whoever serves it next.
	drpc::ClientConnection later(path);
	CHECK_NOTHROW(later.connect());
	::close(kept);
}

TEST_CASE("a server refuses an adopted socket that is not a listening SOCK_SEQPACKET Unix socket")
{
	drpc::log::set_level(drpc::log::Level::warn);
	test::TempDir dir;
	struct Case {
		const char *name;
		int type;
		bool listen;
		const char *message;
	};
	const Case cases[] = {
		{"a stream socket", SOCK_STREAM, true, "is not a SOCK_SEQPACKET Unix socket"},
		{"a datagram socket", SOCK_DGRAM, false, "is not a SOCK_SEQPACKET Unix socket"},
		{"a socket that does not listen", SOCK_SEQPACKET, false, "is not listening"},
	};
	for (const Case &c : cases) {
		CAPTURE(c.name);
		const auto path = dir / (std::string(c.name).substr(2, 6) + ".sock");
		drpc::DomainSocketServer server(adopting(path, listening_socket(c.type, path, c.listen)));
		try {
			server.start();
			FAIL("start() accepted " << c.name);
		} catch (const drpc::Error &e) {
			CHECK(std::string(e.what()).find(c.message) != std::string::npos);
			CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
		}
	}
}
