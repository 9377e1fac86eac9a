// SPDX-License-Identifier: Apache-2.0
/// @file server_log_limits.hpp
/// The server's log records that a client can cause as often as it likes,
/// in one place: each kind is written in full a few times, then counted
/// (log::RateLimit).
#pragma once

#include <drpc/log.hpp>

namespace drpc::detail::log_limits {

// Admission (the accept thread).
inline log::RateLimit refused_by_quota{"session refused"};
inline log::RateLimit refused_no_fd{"out of descriptors"};
inline log::RateLimit refused_no_thread{"no thread for a session"};
inline log::RateLimit accept_errors{"accept error"};
inline log::RateLimit expired_sessions{"session timed out"};

// Sessions.
inline log::RateLimit framing_errors{"framing error"};
inline log::RateLimit over_budget{"over the in-flight budget"};
inline log::RateLimit send_timeouts{"answer not read"};
inline log::RateLimit peer_gone{"peer closed mid-message"};
inline log::RateLimit handler_threw{"handler threw"};
inline log::RateLimit send_errors{"send error"};

} // namespace drpc::detail::log_limits
