// SPDX-License-Identifier: Apache-2.0
/// @file send_turn.hpp
/// The turn to send on a link's socket (worker_link.hpp, link_server.hpp):
/// messages of one record go several at once (the kernel keeps a record
/// whole), a longer one alone, so that nothing lands between its records.
///
/// Why not std::shared_mutex: glibc's prefers its shared holders, so a
/// steady stream of one-record messages could keep a longer one waiting for
/// good. This one lets no new shared holder in while a long message waits.
#pragma once

#include <pthread.h>

namespace drpc::host::isolation {

class SendTurn {
public:
	SendTurn() noexcept
	{
		pthread_rwlockattr_t attributes;
		::pthread_rwlockattr_init(&attributes);
		::pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		::pthread_rwlock_init(&lock_, &attributes);
		::pthread_rwlockattr_destroy(&attributes);
	}
	~SendTurn() { ::pthread_rwlock_destroy(&lock_); }
	SendTurn(const SendTurn &) = delete;
	SendTurn &operator=(const SendTurn &) = delete;

	// For std::unique_lock (a long message) and std::shared_lock (one record).
	void lock() noexcept { ::pthread_rwlock_wrlock(&lock_); }
	void unlock() noexcept { ::pthread_rwlock_unlock(&lock_); }
	void lock_shared() noexcept { ::pthread_rwlock_rdlock(&lock_); }
	void unlock_shared() noexcept { ::pthread_rwlock_unlock(&lock_); }
	[[nodiscard]] bool try_lock_shared() noexcept { return ::pthread_rwlock_tryrdlock(&lock_) == 0; }

private:
	pthread_rwlock_t lock_;
};

} // namespace drpc::host::isolation
