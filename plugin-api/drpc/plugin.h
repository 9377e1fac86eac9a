/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file drpc/plugin.h
 * The binary contract between drpc-host and a dRPC module plugin, in plain C.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `drpc_plugin_entry` (DRPC_PLUGIN_ENTRY_SYMBOL), with C linkage. It returns a
 * pointer to a static `struct drpc_plugin`. Everything the host and the plugin
 * exchange crosses this header: fixed-width integers, byte buffers and
 * function pointers; no C++ types, no exceptions, no memory freed on the other
 * side of the boundary.
 *
 * C++ authors do not use this header directly: `drpc/plugin.hpp` adapts a
 * C++ class onto it and exports the entry with one macro.
 *
 * ## Versioning, and how this ABI grows
 * Two numbers, for two kinds of change:
 * - DRPC_PLUGIN_ABI_VERSION (in `abi_version`) changes only for a change an
 *   old plugin or an old host could not survive (a field's meaning or type,
 *   a removal). A host refuses a plugin built for an ABI version it does not
 *   speak. It has been 1 since the first release.
 * - Growth within an ABI version is additive, in the manner of PipeWire's
 *   SPA, and needs no new ABI version. The rules:
 *   1. A field is only ever appended at the end of a struct, never
 *      inserted, removed, reordered or retyped; the struct's `#define`
 *      version (right above it) goes up by one, and the field's comment says
 *      "since version N".
 *   2. Every appended field is optional: a pointer (or function pointer)
 *      that may be NULL, never a value whose zero means something.
 *   3. The reader of a struct reads an appended field only when the
 *      writer's struct says the field exists (`struct_size` for struct
 *      drpc_plugin, `version` for the host's structs) AND the pointer is not
 *      NULL; otherwise it behaves as before the field existed.
 *      DRPC_PLUGIN_HAS() below does both checks for struct drpc_plugin.
 *   4. So a plugin built against an older plugin.h keeps loading on a newer
 *      host (its struct is shorter: the newer fields read as absent), and a
 *      newer plugin loads on an older host (which never reads past what it
 *      knows). tests/plugin-api/abi1/ holds a frozen copy of the version-1
 *      header; a plugin built against it must keep loading and serving.
 *   Version 3 added the self-description (describe, below) exactly so.
 *
 * ## What the host checks before running any plugin code
 * The plugin's `struct drpc_plugin_info` is also placed in the ELF section
 * DRPC_PLUGIN_INFO_SECTION. The host reads that section from the file before
 * it maps the library, so a plugin with the wrong ABI version or a module ID
 * that is reserved or already taken is refused before its static
 * constructors run. After mapping, the info returned by the entry must be
 * identical to the section's.
 *
 * ## Threading
 * - create() and destroy() are called once per instance, never concurrently
 *   with any other function of that instance.
 * - call() is called concurrently from several host threads (one per client
 *   session) on the same instance. A module protects its own state.
 * - export_state() is called only when no call() of that instance is running
 *   and none will start; import_state() is called after create() and before
 *   the first call().
 * - Functions must not block indefinitely: the host bounds a reload's drain
 *   with a deadline and never unloads a library while one of its functions runs.
 *
 * ## Lifetime
 * - The host keeps the library mapped until destroy() has returned for every
 *   instance. destroy() must stop every thread and timer the plugin started:
 *   after it returns, the host may unmap the code.
 * - Pointers passed to a function are valid only until it returns.
 * - During a reload, the old and the new build of a plugin are mapped at the
 *   same time. A plugin must tolerate that (no fixed file paths or ports taken
 *   exclusively in create(); protobuf code generated with
 *   `optimize_for = LITE_RUNTIME`, see the README).
 */
#ifndef DRPC_PLUGIN_H
#define DRPC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version described by this header. */
#define DRPC_PLUGIN_ABI_VERSION 1u

/** The one symbol a plugin exports. */
#define DRPC_PLUGIN_ENTRY_SYMBOL "drpc_plugin_entry"

/** ELF section holding the plugin's struct drpc_plugin_info. */
#define DRPC_PLUGIN_INFO_SECTION ".drpc_plugin_info"

/** First 8 bytes of struct drpc_plugin_info, so the host can recognise it. */
#define DRPC_PLUGIN_INFO_MAGIC "DRPCPLG"

/** Sizes of the fixed text fields of struct drpc_plugin_info, with the NUL. */
#define DRPC_PLUGIN_NAME_MAX 64
#define DRPC_PLUGIN_VERSION_MAX 32

/**
 * Status codes, equal to drpc.Status on the wire (proto/drpc.proto).
 * A call() returns one of them; the host sends a body only with SUCCESS.
 */
#define DRPC_STATUS_SUCCESS 0
#define DRPC_STATUS_SUBMITTED 1
#define DRPC_STATUS_FAILURE 2
#define DRPC_STATUS_UNKNOWN_MODULE 3
#define DRPC_STATUS_UNKNOWN_METHOD 4
#define DRPC_STATUS_FAILED_UNMARSHAL_CALL 5
#define DRPC_STATUS_FAILED_UNMARSHAL_PAYLOAD 6
#define DRPC_STATUS_FAILED_MARSHAL 7

/**
 * What a plugin is, as plain data. Lives in DRPC_PLUGIN_INFO_SECTION and is
 * read from the file before the library is mapped. Text fields are
 * NUL-terminated UTF-8; `name` matches [A-Za-z0-9_.-]+.
 */
struct drpc_plugin_info {
	char magic[8];        /**< DRPC_PLUGIN_INFO_MAGIC, NUL included */
	uint32_t abi_version; /**< DRPC_PLUGIN_ABI_VERSION the plugin was built for */
	int32_t module_id;    /**< the dRPC module ID this plugin serves */
	char name[DRPC_PLUGIN_NAME_MAX];
	char version[DRPC_PLUGIN_VERSION_MAX];
};

/** A message from the plugin to the host, e.g. why create() failed. */
#define DRPC_ERROR_MESSAGE_MAX 512
struct drpc_error {
	char message[DRPC_ERROR_MESSAGE_MAX]; /**< NUL-terminated; truncated to fit */
};

/** Who is calling and what, handed to every call(). */
#define DRPC_CALL_INFO_VERSION 1u
struct drpc_call_info {
	uint32_t version; /**< DRPC_CALL_INFO_VERSION */
	int32_t module;
	int32_t method;
	int32_t peer_pid; /**< the client's SO_PEERCRED credentials */
	uint32_t peer_uid;
	uint32_t peer_gid;
	int64_t sequence; /**< the Call's sequence, echoed by the host */
};

/**
 * Where a plugin writes its answer (a call's response body, or exported
 * state). The host owns the memory.
 */
#define DRPC_OUTPUT_VERSION 1u
struct drpc_output {
	uint32_t version; /**< DRPC_OUTPUT_VERSION */
	uint32_t reserved;
	void *host_data; /**< pass back to reserve() unchanged */
	/**
	 * Returns a host buffer of exactly `size` bytes for the plugin to fill,
	 * valid until the calling function returns; NULL when `size` exceeds
	 * the host's limit (answer DRPC_STATUS_FAILED_MARSHAL then). A second
	 * reserve() replaces the first: only the last buffer is sent.
	 * Reserving nothing means an empty answer.
	 */
	uint8_t *(*reserve)(void *host_data, uint64_t size);
};

/** Bounds of a module's self-description; the host ignores one past them. */
#define DRPC_DESCRIPTION_METHODS_MAX 1024u      /**< methods described */
#define DRPC_DESCRIPTION_NAME_MAX 64u           /**< a method's name, NUL included */
#define DRPC_DESCRIPTION_TYPE_MAX 256u          /**< a message type's full name, NUL included */
#define DRPC_DESCRIPTOR_SET_MAX (1024u * 1024u) /**< bytes of the FileDescriptorSet */

/**
 * One method of a module, as clients call it by name. Since
 * DRPC_PLUGIN_VERSION 3 (see describe).
 */
struct drpc_method_description {
	int32_t method;    /**< the Call's method number */
	uint32_t reserved; /**< 0 */
	/** NUL-terminated, [A-Za-z0-9_]+, shorter than DRPC_DESCRIPTION_NAME_MAX: "Put". */
	const char *name;
	/**
	 * The request and response protobuf message types by full name
	 * ("kv.PutRequest"), [A-Za-z0-9_.]+, shorter than
	 * DRPC_DESCRIPTION_TYPE_MAX, each defined in descriptor_set.
	 */
	const char *request_type;
	const char *response_type;
};

/**
 * What a module says of itself: its methods and the protobuf descriptors of
 * their messages, so that a client (drpc-ctl) can call it by method name
 * with JSON. Protobuf's lite runtime, which plugins use, carries no
 * descriptors, so the build embeds them: `protoc --include_imports
 * --descriptor_set_out` of the plugin's .proto files, as bytes (the Meson
 * helper drpc-plugin-protoc does it; see drpc/plugin.hpp).
 *
 * What the host checks, and why no more: it links protobuf-lite only, which
 * cannot parse a FileDescriptorSet as a message. So it checks the bounds
 * above, the names' characters, that method numbers are unique, and the
 * set's wire structure (every field of the set a length-delimited `file`,
 * every file well-formed protobuf wire format inside, every method's types
 * among the messages the files define: package + message names). A
 * description failing any of this is ignored, with one log line saying
 * what is wrong; the module still loads and serves, as one that does not
 * describe itself. Building descriptors from the set (which may still
 * fail, e.g. a field of an undefined type) is left to the client, which
 * has the full runtime.
 */
#define DRPC_PLUGIN_DESCRIPTION_VERSION 1u
struct drpc_plugin_description {
	uint32_t version;      /**< DRPC_PLUGIN_DESCRIPTION_VERSION */
	uint32_t method_count; /**< entries of `methods`, at most DRPC_DESCRIPTION_METHODS_MAX */
	const struct drpc_method_description *methods;
	/** A serialized google.protobuf.FileDescriptorSet; NULL when there is none. */
	const uint8_t *descriptor_set;
	uint64_t descriptor_set_len; /**< at most DRPC_DESCRIPTOR_SET_MAX */
};

/**
 * The descriptor `drpc_plugin_entry` returns. Version 1 ends at
 * import_state; each later version appends one optional field (see
 * "Versioning" above). `struct_size` says which fields the plugin has.
 */
#define DRPC_PLUGIN_VERSION 3u
struct drpc_plugin {
	uint32_t abi_version; /**< DRPC_PLUGIN_ABI_VERSION */
	uint32_t struct_size; /**< sizeof(struct drpc_plugin) as built: which fields exist */
	/** The same object as the DRPC_PLUGIN_INFO_SECTION copy. */
	const struct drpc_plugin_info *info;

	/**
	 * Creates an instance. `config_json` is the module's config object from
	 * the host config (`{}` when there is none), `config_len` bytes, not
	 * NUL-terminated. Returns NULL and fills `error` on failure.
	 */
	void *(*create)(const char *config_json, uint64_t config_len, struct drpc_error *error);

	/** Destroys an instance; stops the plugin's threads and timers. */
	void (*destroy)(void *instance);

	/**
	 * Handles one call: `body` is the Call's body (`body_len` bytes, may be
	 * NULL when empty). Returns a DRPC_STATUS_*; on SUCCESS the answer is
	 * what was written through `out`. The host uses call_with_error instead
	 * when the plugin has it.
	 */
	int32_t (*call)(void *instance, const struct drpc_call_info *info, const uint8_t *body, uint64_t body_len,
	                struct drpc_output *out);

	/**
	 * Optional (NULL when the plugin does not hand its state over on
	 * reload). Writes the instance's state through `out`; returns
	 * DRPC_STATUS_SUCCESS or fills `error`.
	 */
	int32_t (*export_state)(void *instance, struct drpc_output *out, struct drpc_error *error);

	/**
	 * Optional, present exactly when export_state is. Loads state written
	 * by export_state() of an earlier build of the same module.
	 */
	int32_t (*import_state)(void *instance, const uint8_t *state, uint64_t state_len, struct drpc_error *error);

	/**
	 * Since version 2; optional. call() with an error channel: on any
	 * status but SUCCESS the plugin may write why into `error` (the host
	 * passes it zeroed). The text goes to the host's log, rate-limited and
	 * escaped, never to the caller, who gets the returned status.
	 */
	int32_t (*call_with_error)(void *instance, const struct drpc_call_info *info, const uint8_t *body,
	                           uint64_t body_len, struct drpc_output *out, struct drpc_error *error);

	/**
	 * Since version 3; optional. The instance's self-description (see
	 * struct drpc_plugin_description), or NULL when it has none. Called
	 * once, right after create() and before the first call(), never
	 * concurrently with another function of the instance; what it points
	 * to stays valid and unchanged until destroy().
	 */
	const struct drpc_plugin_description *(*describe)(void *instance);
};

/** sizeof(struct drpc_plugin) at version 1: the least a host accepts. */
#define DRPC_PLUGIN_SIZE_V1 (offsetof(struct drpc_plugin, import_state) + sizeof(void (*)(void)))
/** sizeof(struct drpc_plugin) at version 2, before describe. */
#define DRPC_PLUGIN_SIZE_V2 (offsetof(struct drpc_plugin, call_with_error) + sizeof(void (*)(void)))

/**
 * Whether `plugin` (a const struct drpc_plugin *) has the appended `field`
 * and it is set: the one way to read a field added after version 1.
 */
#define DRPC_PLUGIN_HAS(plugin, field)                                                                                 \
	((plugin)->struct_size >= offsetof(struct drpc_plugin, field) + sizeof((plugin)->field) &&                     \
	 (plugin)->field != NULL)

/** The signature of the exported entry symbol. */
typedef const struct drpc_plugin *(*drpc_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DRPC_PLUGIN_H */
