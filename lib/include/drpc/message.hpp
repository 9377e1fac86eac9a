// SPDX-License-Identifier: Apache-2.0
/// @file drpc/message.hpp
/// The two dRPC messages and the status enum: the classes protoc generates
/// from proto/drpc.proto (lite runtime), exactly as DAOS's Go package uses
/// its generated drpc.Call and drpc.Response.
///
///   drpc::Call call;
///   call.set_module(0);
///   call.set_method(0);
///   call.set_body(request.SerializeAsString());
///   drpc::Response response = connection.send_msg(call);
///   if (response.status() != drpc::Status::SUCCESS) ...
///
/// Only a SUCCESS response carries a body. drpc::Status is a proto3 (open)
/// enum: a decoded Response may carry a value with no name.
#pragma once

#include "drpc.pb.h"
