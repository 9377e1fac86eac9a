// SPDX-License-Identifier: Apache-2.0
// Byte-for-byte checks against the records captured from DAOS's own Go
// client and server (tests/wire-vectors): our headers, our encoder, our
// chunking, our decoder and our server's answers must be those bytes.
#include "test_support.hpp"

#include <drpc/codec.hpp>
#include <drpc/framing.hpp>
#include <drpc/server.hpp>

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using drpc::framing::ChunkHeader;

struct VectorInfo {
	const char *name;
	std::vector<ChunkHeader> headers;
};

const std::vector<VectorInfo> &all_vectors()
{
	static const std::vector<VectorInfo> vectors = {
		{"hello_call", {{12, 12, 0, 1}}},
		{"hello_response", {{18, 18, 0, 1}}},
		{"large_call", {{300010, 131048, 0, 3}, {300010, 131048, 1, 3}, {300010, 37914, 2, 3}}},
		{"large_call_response", {{4, 4, 0, 1}}},
		{"unknown_module_call", {{4, 4, 0, 1}}},
		{"unknown_module_response", {{4, 4, 0, 1}}},
		{"bad_call", {{3, 3, 0, 1}}},
		{"bad_call_response", {{13, 13, 0, 1}}},
		{"empty_call", {{0, 0, 0, 1}}},
		{"empty_call_response", {{10, 10, 0, 1}}},
		{"large_hello_call", {{200010, 131048, 0, 2}, {200010, 68962, 1, 2}}},
		{"large_hello_response", {{200016, 131048, 0, 2}, {200016, 68968, 1, 2}}},
	};
	return vectors;
}

/// Sends `message` with our framing over a socketpair and collects the records.
std::vector<std::string> chunk_with_our_sender(const std::string &message)
{
	int fds[2];
	REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0);
	std::thread sender([&] {
		drpc::framing::send_message(
			fds[0], std::span(reinterpret_cast<const uint8_t *>(message.data()), message.size()));
		::close(fds[0]);
	});
	std::vector<std::string> records;
	std::string buffer(drpc::framing::max_record_size, '\0');
	for (;;) {
		const ssize_t n = ::recv(fds[1], buffer.data(), buffer.size(), 0);
		if (n <= 0)
			break;
		records.push_back(buffer.substr(0, static_cast<size_t>(n)));
	}
	sender.join();
	::close(fds[1]);
	return records;
}

std::string_view view(const std::string &s) { return s; }

} // namespace

TEST_CASE("chunk headers decode to the values DAOS wrote")
{
	for (const VectorInfo &info : all_vectors()) {
		CAPTURE(info.name);
		const auto records = test::vector_records(info.name);
		REQUIRE(records.size() == info.headers.size());
		for (size_t i = 0; i < records.size(); ++i) {
			CAPTURE(i);
			REQUIRE(records[i].size() >= drpc::framing::header_size);
			const ChunkHeader header =
				drpc::framing::decode_header(reinterpret_cast<const uint8_t *>(records[i].data()));
			CHECK(header == info.headers[i]);
			CHECK(records[i].size() == drpc::framing::header_size + header.chunk_data_size);
		}
	}
}

TEST_CASE("our chunking of each captured message gives DAOS's records byte for byte")
{
	for (const VectorInfo &info : all_vectors()) {
		CAPTURE(info.name);
		const auto expected = test::vector_records(info.name);
		const auto ours = chunk_with_our_sender(test::vector_message(info.name));
		REQUIRE(ours.size() == expected.size());
		for (size_t i = 0; i < ours.size(); ++i)
			CHECK(ours[i] == expected[i]);
	}
}

TEST_CASE("our reader reassembles every captured message")
{
	for (const VectorInfo &info : all_vectors()) {
		CAPTURE(info.name);
		int fds[2];
		REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) == 0);
		const auto records = test::vector_records(info.name);
		// A thread sends, since a large message does not fit the socket buffer.
		std::thread sender([&] {
			for (const std::string &record : records)
				(void)::send(fds[0], record.data(), record.size(), MSG_NOSIGNAL);
		});
		drpc::framing::MessageReader reader;
		const auto result = reader.read(fds[1]);
		sender.join();
		REQUIRE(result == drpc::framing::MessageReader::Result::message);
		const auto message = reader.message();
		CHECK(std::string(reinterpret_cast<const char *>(message.data()), message.size()) ==
		      test::vector_message(info.name));
		::close(fds[0]);
		::close(fds[1]);
	}
}

TEST_CASE("calls decode to what DAOS's client sent, and encode back to the same bytes")
{
	struct Expected {
		const char *name;
		int32_t module, method;
		int64_t sequence;
		size_t body_size;
	};
	const std::vector<Expected> calls = {
		{"hello_call", 0, 0, 1, 8}, {"large_call", 2, 7, 5, 300000},       {"unknown_module_call", 99, 0, 1, 0},
		{"empty_call", 0, 0, 0, 0}, {"large_hello_call", 0, 0, 1, 200004},
	};
	for (const Expected &e : calls) {
		CAPTURE(e.name);
		const std::string bytes = test::vector_message(e.name);
		const auto call = drpc::codec::decode_call(bytes);
		REQUIRE(call);
		CHECK(call->module == e.module);
		CHECK(call->method == e.method);
		CHECK(call->sequence == e.sequence);
		CHECK(call->body.size() == e.body_size);
		std::string encoded(drpc::codec::encoded_size(*call), '\0');
		drpc::codec::encode_to(*call, reinterpret_cast<uint8_t *>(encoded.data()));
		CHECK(encoded == bytes);
		// And through the generated classes of the public API.
		const auto generated = drpc::codec::to_call(bytes);
		REQUIRE(generated);
		CHECK(generated->SerializeAsString() == bytes);
		CHECK(drpc::codec::encode(*generated) == bytes);
	}
	SUBCASE("the large call's body is byte i = i % 251")
	{
		const std::string bytes = test::vector_message("large_call");
		const auto call = drpc::codec::decode_call(bytes);
		REQUIRE(call);
		bool pattern = true;
		for (size_t i = 0; i < call->body.size(); ++i)
			pattern = pattern && static_cast<uint8_t>(call->body[i]) == i % 251;
		CHECK(pattern);
	}
	SUBCASE("the bad call does not decode")
	{
		CHECK_FALSE(drpc::codec::decode_call(test::vector_message("bad_call")));
	}
}

TEST_CASE("responses decode to what DAOS's server sent, and encode back to the same bytes")
{
	struct Expected {
		const char *name;
		int64_t sequence;
		drpc::Status status;
		std::string body;
	};
	const std::vector<Expected> responses = {
		{"hello_response", 1, drpc::Status::SUCCESS, std::string("\x0a\x0cHello Friend", 14)},
		{"large_call_response", 5, drpc::Status::UNKNOWN_MODULE, ""},
		{"unknown_module_response", 1, drpc::Status::UNKNOWN_MODULE, ""},
		{"bad_call_response", -1, drpc::Status::FAILED_UNMARSHAL_CALL, ""},
		{"empty_call_response", 0, drpc::Status::SUCCESS, std::string("\x0a\x06Hello ", 8)},
	};
	for (const Expected &e : responses) {
		CAPTURE(e.name);
		const std::string bytes = test::vector_message(e.name);
		const auto response = drpc::codec::decode_response(bytes);
		REQUIRE(response);
		CHECK(response->sequence == e.sequence);
		CHECK(response->status == e.status);
		CHECK(response->body == view(e.body));
		std::string encoded(drpc::codec::encoded_size(*response), '\0');
		drpc::codec::encode_to(*response, reinterpret_cast<uint8_t *>(encoded.data()));
		CHECK(encoded == bytes);
		const auto generated = drpc::codec::to_response(bytes);
		REQUIRE(generated);
		CHECK(generated->SerializeAsString() == bytes);
	}
}

TEST_CASE("our server answers DAOS's captured calls with DAOS's captured responses, in one connection")
{
	// The replay DAOS's own server was checked with: bad, hello, unknown
	// module, empty, large, large hello, all on one raw connection.
	test::TempDir dir;
	drpc::DomainSocketServer server(dir / "drpc.sock", 0600);
	server.register_module(std::make_shared<test::HelloModule>());
	server.start();

	test::RawConnection connection(dir / "drpc.sock");
	const std::vector<std::pair<std::string, std::string>> exchanges = {
		{"bad_call", "bad_call_response"},
		{"hello_call", "hello_response"},
		{"unknown_module_call", "unknown_module_response"},
		{"empty_call", "empty_call_response"},
		{"large_call", "large_call_response"},
		{"large_hello_call", "large_hello_response"},
	};
	for (const auto &[call, response] : exchanges) {
		CAPTURE(call);
		for (const std::string &record : test::vector_records(call))
			connection.send_record(record);
		for (const std::string &expected : test::vector_records(response)) {
			const auto record = connection.receive_record();
			REQUIRE(record);
			CHECK(*record == expected);
		}
	}
	server.shutdown();
}
