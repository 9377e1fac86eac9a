// SPDX-License-Identifier: Apache-2.0
/// @file seqpacket.hpp
/// Bare AF_UNIX SOCK_SEQPACKET plumbing for the floor echo, kept apart from
/// libdrpc so the floor measures the kernel and nothing of ours.
#pragma once

#include <drpc/unique_fd.hpp>

#include <filesystem>
#include <functional>
#include <mutex>
#include <unordered_set>

namespace drpc::bench {

/// A listening socket bound at `path` (which must not exist); throws
/// std::system_error naming the path.
[[nodiscard]] UniqueFd listen_seqpacket(const std::filesystem::path &path);

/// A socket connected to `path`; throws std::system_error naming the path.
[[nodiscard]] UniqueFd connect_seqpacket(const std::filesystem::path &path);

/// Sends one record; throws std::system_error (never raises SIGPIPE).
void send_record(int fd, const void *data, size_t size, const char *what);

/// Receives one record of at most `capacity` bytes; returns its size, 0 when
/// the peer closed. Throws std::system_error.
[[nodiscard]] size_t receive_record(int fd, void *data, size_t capacity, const char *what);

/// Accepts connections on `listener` until it is shut down or `stopping` is
/// set: each one, under `mutex`, goes into `open` and to `start` (which
/// starts its thread); one `start` throws for is closed. For a bench server's
/// accept thread; its stop() sets `stopping` and shuts down `listener` and
/// everything in `open` under `mutex`.
void accept_connections(int listener, std::mutex &mutex, const bool &stopping, std::unordered_set<int> &open,
                        const std::function<void(int fd)> &start) noexcept;

} // namespace drpc::bench
