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
 * ## Versioning
 * Every struct begins with a `version` (or `abi_version`) field whose current
 * value is the `#define` right above the struct. Fields are only ever added at
 * the end, with a version bump; the host reads a field only when the version
 * the plugin (or host) filled in says it exists. A plugin built for an ABI
 * version the host does not know is refused at load time.
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

/** The descriptor `drpc_plugin_entry` returns. */
#define DRPC_PLUGIN_VERSION 1u
struct drpc_plugin {
	uint32_t abi_version; /**< DRPC_PLUGIN_ABI_VERSION */
	uint32_t struct_size; /**< sizeof(struct drpc_plugin) as built */
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
	 * what was written through `out`.
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
};

/** The signature of the exported entry symbol. */
typedef const struct drpc_plugin *(*drpc_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DRPC_PLUGIN_H */
