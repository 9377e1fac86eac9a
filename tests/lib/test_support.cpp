// SPDX-License-Identifier: Apache-2.0
// Helpers shared by libdrpc's tests.
#include "test_support.hpp"

#include "hello.pb.h"

#include <drpc/error.hpp>
#include <drpc/framing.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace test {

std::string vector_message(const std::string &name)
{
	std::string message;
	for (const std::string &record : vector_records(name))
		message += record.substr(drpc::framing::header_size);
	return message;
}

RawConnection::RawConnection(const std::filesystem::path &socket_path)
{
	fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd_ < 0)
		throw drpc::SystemError("test socket", errno);
	sockaddr_un address{};
	address.sun_family = AF_UNIX;
	std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
	if (::connect(fd_, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
		const int error = errno;
		::close(fd_);
		throw drpc::SystemError("test connect " + socket_path.string(), error);
	}
}

RawConnection::~RawConnection() { ::close(fd_); }

void RawConnection::send_record(const std::string &record)
{
	if (::send(fd_, record.data(), record.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(record.size()))
		throw drpc::SystemError("test send", errno);
}

std::optional<std::string> RawConnection::receive_record(int timeout_ms)
{
	pollfd pfd{fd_, POLLIN, 0};
	if (::poll(&pfd, 1, timeout_ms) <= 0)
		return std::nullopt;
	std::string buffer(drpc::framing::max_record_size + 1, '\0');
	const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
	if (n <= 0)
		return std::nullopt;
	buffer.resize(static_cast<size_t>(n));
	return buffer;
}

void RawConnection::send_message(const std::string &message)
{
	drpc::framing::send_message(fd_, std::span(reinterpret_cast<const uint8_t *>(message.data()), message.size()));
}

std::optional<std::string> RawConnection::receive_message(int timeout_ms)
{
	drpc::framing::MessageReader reader;
	if (reader.read(fd_, timeout_ms) != drpc::framing::MessageReader::Result::message)
		return std::nullopt;
	const auto bytes = reader.message();
	return std::string(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

bool RawConnection::closed_by_peer(int timeout_ms)
{
	pollfd pfd{fd_, POLLIN, 0};
	if (::poll(&pfd, 1, timeout_ms) <= 0)
		return false;
	char byte;
	return ::recv(fd_, &byte, 1, MSG_DONTWAIT) == 0;
}

std::string make_record(uint64_t total, uint64_t chunk_size, uint32_t idx, uint32_t chunks, const std::string &data)
{
	std::string record(drpc::framing::header_size, '\0');
	drpc::framing::encode_header({total, chunk_size, idx, chunks}, reinterpret_cast<uint8_t *>(record.data()));
	return record + data;
}

drpc::Status HelloModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                      drpc::ResponseBody &out)
{
	if (context.method != 0)
		return drpc::Status::UNKNOWN_METHOD;
	hello::Hello request;
	if (!request.ParseFromArray(body.data(), static_cast<int>(body.size())))
		return drpc::Status::FAILED_UNMARSHAL_PAYLOAD;
	hello::HelloResponse response;
	response.set_greeting("Hello " + request.name());
	const size_t size = response.ByteSizeLong();
	auto buffer = out.reserve(size);
	if (buffer.size() != size)
		return drpc::Status::FAILED_MARSHAL;
	response.SerializeWithCachedSizesToArray(buffer.data());
	return drpc::Status::SUCCESS;
}

drpc::Status EchoModule::handle_call(const drpc::CallContext &context, std::span<const uint8_t> body,
                                     drpc::ResponseBody &out)
{
	last_peer_pid = context.peer.pid;
	switch (context.method) {
	case 0:
		return out.assign(std::string_view(reinterpret_cast<const char *>(body.data()), body.size()))
		               ? drpc::Status::SUCCESS
		               : drpc::Status::FAILED_MARSHAL;
	case 1:
		throw std::runtime_error("handler failure on purpose");
	case 2:
		(void)out.assign("must not be sent");
		return drpc::Status::FAILURE;
	case 3:
		(void)out.assign("must not be sent");
		return static_cast<drpc::Status>(body.empty() ? 0 : body[0]);
	default:
		return drpc::Status::UNKNOWN_METHOD;
	}
}

drpc::Status GateModule::handle_call(const drpc::CallContext &, std::span<const uint8_t> body, drpc::ResponseBody &out)
{
	std::unique_lock lock(mutex_);
	++entered_;
	changed_.notify_all();
	changed_.wait(lock, [this] { return open_; });
	return out.assign(std::string_view(reinterpret_cast<const char *>(body.data()), body.size()))
	               ? drpc::Status::SUCCESS
	               : drpc::Status::FAILED_MARSHAL;
}

void GateModule::open()
{
	const std::lock_guard lock(mutex_);
	open_ = true;
	changed_.notify_all();
}

bool GateModule::wait_entered(int n, int timeout_ms)
{
	std::unique_lock lock(mutex_);
	return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return entered_ >= n; });
}

} // namespace test
