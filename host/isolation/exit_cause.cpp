// SPDX-License-Identifier: Apache-2.0
// The words for a worker's end.
#include "exit_cause.hpp"

#include <cstring>

namespace drpc::host::isolation {

std::string describe_exit(const siginfo_t &info)
{
	switch (info.si_code) {
	case CLD_EXITED:
		return "exited with status " + std::to_string(info.si_status);
	case CLD_KILLED:
	case CLD_DUMPED: {
		const char *name = ::sigabbrev_np(info.si_status);
		return "killed by signal " + std::to_string(info.si_status) + " (SIG" + (name != nullptr ? name : "?") +
		       ")" + (info.si_code == CLD_DUMPED ? ", core dumped" : "");
	}
	default:
		return "ended (si_code " + std::to_string(info.si_code) + ")";
	}
}

} // namespace drpc::host::isolation
