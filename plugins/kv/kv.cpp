// SPDX-License-Identifier: Apache-2.0
// The example key-value plugin (module 1001): PUT, GET, DELETE and LIST on an
// in-memory store whose contents survive a reload through StateHandoff.

#include "kv.pb.h"
#include "kv_limits.hpp"
#include "kv_store.hpp"

#include <drpc/plugin.hpp>

#include <climits>
#include <stdexcept>
#include <string>

namespace {

using drpc::plugin::CallContext;
using drpc::plugin::Status;
using kv_plugin::Store;

class KvModule : public drpc::plugin::TypedModule<KvModule>, public drpc::plugin::StateHandoff {
public:
	enum Method : int32_t { put_method = 0, get_method = 1, delete_method = 2, list_method = 3 };

	explicit KvModule(const drpc::plugin::Config &config) : store_(kv_plugin::parse_limits(config.json))
	{
		on(put_method, "Put", &KvModule::put);
		on(get_method, "Get", &KvModule::get);
		on(delete_method, "Delete", &KvModule::erase);
		on(list_method, "List", &KvModule::list);
	}

	Status put(const CallContext &, const kv::PutRequest &request, kv::PutResponse &response)
	{
		response.set_replaced(store_.put(request.key(), request.value()));
		return Status::success;
	}

	Status get(const CallContext &, const kv::GetRequest &request, kv::GetResponse &response)
	{
		if (std::optional<std::string> value = store_.get(request.key())) {
			response.set_found(true);
			response.set_value(std::move(*value));
		}
		return Status::success;
	}

	Status erase(const CallContext &, const kv::DeleteRequest &request, kv::DeleteResponse &response)
	{
		response.set_deleted(store_.erase(request.key()));
		return Status::success;
	}

	Status list(const CallContext &, const kv::ListRequest &request, kv::ListResponse &response)
	{
		Store::Page page = store_.list(request.after(), request.limit());
		for (std::string &key : page.keys)
			response.add_keys(std::move(key));
		response.set_truncated(page.truncated);
		return Status::success;
	}

	void export_state(drpc::plugin::Output &out) override
	{
		const kv::Snapshot snapshot = store_.snapshot();
		const size_t size = snapshot.ByteSizeLong();
		if (size > static_cast<size_t>(INT_MAX))
			throw std::length_error("kv state of " + std::to_string(size) +
			                        " bytes is over protobuf's 2 GiB message limit");
		std::span<uint8_t> buffer = out.reserve(size);
		if (size != 0 && buffer.empty())
			throw std::length_error("the host refused " + std::to_string(size) + " bytes of kv state");
		if (size != 0)
			snapshot.SerializeWithCachedSizesToArray(buffer.data());
	}

	void import_state(std::span<const uint8_t> state) override
	{
		kv::Snapshot snapshot;
		if (state.size() > static_cast<size_t>(INT_MAX) ||
		    !snapshot.ParseFromArray(state.data(), static_cast<int>(state.size())))
			throw std::invalid_argument("kv state: " + std::to_string(state.size()) +
			                            " bytes that are not a kv.Snapshot");
		store_.restore(snapshot);
	}

private:
	Store store_;
};

} // namespace

DRPC_PLUGIN(KvModule, 1001, "kv", "1.0.0")
