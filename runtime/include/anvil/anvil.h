/*===- anvil.h - the Anvil runtime C API -----------------------------*- C
 *-*-===
 *
 * Load a compiled .anvil artifact and run its entry points.
 *
 * Conventions (IREE-style):
 *  - Every fallible call returns anvil_status: NULL means success; otherwise
 *    the caller owns the status, reads it with anvil_status_get_code() and
 *    anvil_status_get_message(), and frees it with anvil_status_free().
 *  - Outputs are `out_` parameters and come last; on failure they are left
 *    unchanged.
 *  - Objects are opaque handles released with their _release function;
 *    release of NULL is a no-op.
 *  - No exception or abort crosses this boundary.
 *  - Thread safety: an instance and a model may be used from several
 *    threads at once (anvil_model_run included, each call with its own
 *    tensors); a tensor must not be written while another thread reads or
 *    writes it. Statuses are owned by one thread.
 *  - Structs the caller fills that may grow carry struct_size first (set it
 *    to sizeof the struct); fields are only ever added at the end.
 *===----------------------------------------------------------------------===*/

#ifndef ANVIL_ANVIL_H
#define ANVIL_ANVIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===--- status -----------------------------------------------------------===*/

typedef enum anvil_status_code {
  ANVIL_OK = 0,
  ANVIL_INVALID_ARGUMENT = 1, /* bad arguments from the caller */
  ANVIL_NOT_FOUND = 2,        /* no such file, entry point or tensor */
  ANVIL_INVALID_ARTIFACT = 3, /* corrupt, truncated or malformed artifact */
  ANVIL_INCOMPATIBLE = 4,     /* other format/ABI version, target or CPU */
  ANVIL_RESOURCE_EXHAUSTED = 5,
  ANVIL_INTERNAL = 6,         /* a bug in Anvil or the generated code */
  ANVIL_EXECUTION_FAILED = 7, /* the model rejected its inputs while running,
                                 e.g. a gather index out of range */
} anvil_status_code;

typedef struct anvil_status_s *anvil_status;

/* The code of `status`; ANVIL_OK for NULL. Thread-safe. */
anvil_status_code anvil_status_get_code(const struct anvil_status_s *status);
/* The message of `status` ("" for NULL); valid until the status is freed.
 * Thread-safe (reads only). */
const char *anvil_status_get_message(const struct anvil_status_s *status);
/* Frees a status; NULL is a no-op. Not concurrently with another use of the
 * same status. */
void anvil_status_free(anvil_status status);

/*===--- tensors ----------------------------------------------------------===*/

/* Element types: ANVIL_DTYPE_F32 = 1, F16, BF16, F64, I64, I32, I8, U8,
 * BOOL (one byte per element), I16, U16, U32, U64, I4 and U4 (two values
 * per byte, low nibble first), and the fp8 types; anvil/dtypes.def is the
 * one table (numbers never change once released). */
typedef enum anvil_dtype {
#define ANVIL_DTYPE(ID, VALUE, NAME, BITS, KIND, STORAGE, NPY, ONNX)           \
  ANVIL_DTYPE_##ID = VALUE,
#include "anvil/dtypes.def"
} anvil_dtype;

#define ANVIL_MAX_RANK 8

/* Bytes per element of `dtype`; 0 for an unknown value and for the packed
 * 4-bit types (see anvil_dtype_bits). Thread-safe. */
size_t anvil_dtype_size(anvil_dtype dtype);
/* Bits per element of `dtype` (4 for I4 and U4), or 0 for an unknown value.
 * Thread-safe. */
size_t anvil_dtype_bits(anvil_dtype dtype);
/* "f32", "i64", ...; "unknown" for an unknown value. Thread-safe. */
const char *anvil_dtype_name(anvil_dtype dtype);

typedef struct anvil_tensor_s anvil_tensor;

/* A tensor owning zero-initialized, 64-byte-aligned memory. Thread-safe. */
anvil_status anvil_tensor_create(anvil_dtype dtype, size_t rank,
                                 const int64_t *dims,
                                 anvil_tensor **out_tensor);
/* A tensor over caller memory (borrowed: the caller keeps `data` alive and
 * unmoved until the tensor is released). `byte_size` must equal the
 * product of dims times the element size. Thread-safe. */
anvil_status anvil_tensor_wrap(anvil_dtype dtype, size_t rank,
                               const int64_t *dims, void *data,
                               size_t byte_size, anvil_tensor **out_tensor);
/* Not concurrently with any other use of the same tensor. */
void anvil_tensor_release(anvil_tensor *tensor);

/* The accessors below are thread-safe (they read only); writing through
 * anvil_tensor_data's pointer is not, while another thread (or a run) reads
 * or writes the tensor. */
anvil_dtype anvil_tensor_dtype(const anvil_tensor *tensor);
size_t anvil_tensor_rank(const anvil_tensor *tensor);
/* Dimension `axis` (< rank). */
int64_t anvil_tensor_dim(const anvil_tensor *tensor, size_t axis);
void *anvil_tensor_data(anvil_tensor *tensor);
size_t anvil_tensor_byte_size(const anvil_tensor *tensor);

/*===--- instances --------------------------------------------------------===*/

/* An instance owns the runtime's thread pool, allocator and devices; every
 * model opened on it shares them (a draft and a target model, or many
 * models in one server, use one set of threads). */
typedef struct anvil_instance_s anvil_instance;

/* The most threads an instance may be asked for (num_threads). A count far
 * above any machine's cores is a mistake, and starting threads until the
 * system refuses one strains every process on it. */
#define ANVIL_MAX_THREADS 1024

typedef struct anvil_instance_options {
  size_t struct_size; /* sizeof(anvil_instance_options) */
  /* Threads that run parallel loops, the calling thread included; 0 means
   * one per hardware thread. Runs of different models (or concurrent runs
   * of one) share these threads. */
  int num_threads;
} anvil_instance_options;

/* Creates an instance; `options` may be NULL for defaults. Errors:
 * ANVIL_INVALID_ARGUMENT for a negative num_threads, one above
 * ANVIL_MAX_THREADS, or a struct_size
 * smaller than the first version of the struct; ANVIL_RESOURCE_EXHAUSTED
 * when the system refuses a thread (the threads already started are
 * stopped and joined; the message names the count). Thread-safe. */
anvil_status anvil_instance_create(const anvil_instance_options *options,
                                   anvil_instance **out_instance);
/* Drops the caller's reference. Models opened on the instance keep it
 * alive, so it may be released before them; its threads stop when the last
 * of them is released. Not concurrently with another use of the same
 * handle. NULL is a no-op. */
void anvil_instance_release(anvil_instance *instance);
/* Threads that run parallel loops (>= 1). Thread-safe. */
size_t anvil_instance_thread_count(const anvil_instance *instance);

/*===--- models -----------------------------------------------------------===*/

typedef struct anvil_model_s anvil_model;

typedef struct anvil_model_options {
  /* Nonzero skips the section checksums (the header and section table are
   * always checked). */
  int skip_checksums;
  /* Without an instance: threads of the model's own implicit instance, the
   * caller's included; 0 means one per hardware thread; at most
   * ANVIL_MAX_THREADS. With an instance it must be 0 (the instance
   * decides). */
  int num_threads;
  /* The instance whose threads, memory and devices the model uses (the
   * model takes a reference; the caller keeps its own). NULL gives the
   * model an implicit instance of its own. */
  anvil_instance *instance;
  /* NULL, or the 32-byte Ed25519 public key (the raw key; the hex digits
   * of an `anvilc --generate-signing-key` .pub file, decoded) whose
   * signature the artifact must carry. Checked over the mapped bytes before
   * any of the artifact's code is loaded; an artifact that is unsigned,
   * signed by another key, or changed after signing is refused with
   * ANVIL_INVALID_ARTIFACT (docs/signatures.md says what is signed). The
   * caller keeps the 32 bytes alive during the open call only. Added after
   * the first release of this struct: zero-initialize the options. */
  const unsigned char *required_public_key;
} anvil_model_options;

/* Opens an artifact. `options` may be NULL for defaults. The model keeps
 * its own copy of (or mapping of) the file. The artifact's target selects
 * the device; one this runtime cannot run is ANVIL_INCOMPATIBLE.
 * Loading runs the artifact's native code (the dynamic loader runs its ELF
 * constructors before any check of the code): open only trusted
 * artifacts (set `required_public_key` to check a signature first);
 * docs/security.md. Errors: ANVIL_NOT_FOUND for a file that is missing or
 * not a regular file (a directory, FIFO or device is refused without being
 * read); ANVIL_INVALID_ARTIFACT, naming what is wrong, for a corrupt
 * container, reserved fields that are not 0, a malformed manifest (beyond
 * anvil/limits.h in size or nesting, a tensor or arena beyond its size
 * limit), one that disagrees with the code's record of what it was
 * compiled for (the message names the entry point and field), or a failed
 * signature check; ANVIL_INCOMPATIBLE for another format or ABI version,
 * target or a missing CPU feature; ANVIL_RESOURCE_EXHAUSTED when out of
 * memory or when the system refuses the implicit instance's threads.
 * Thread-safe. */
anvil_status anvil_model_open_file(const char *path,
                                   const anvil_model_options *options,
                                   anvil_model **out_model);
/* Opens an artifact from memory; the bytes are copied. Runs the code and
 * reports errors as anvil_model_open_file. Thread-safe. */
anvil_status anvil_model_open_memory(const void *data, size_t size,
                                     const anvil_model_options *options,
                                     anvil_model **out_model);
/* Releases a model once no call on it is running (runs included); not
 * concurrently with any other use of the model. */
void anvil_model_release(anvil_model *model);

/* The inspection calls below are thread-safe (they read only). */
/* The manifest JSON (valid while the model is). */
const char *anvil_model_manifest(const anvil_model *model);
/* The target the artifact was built for ("cpu"). */
const char *anvil_model_target(const anvil_model *model);

typedef struct anvil_tensor_info {
  const char *name; /* valid while the model is */
  anvil_dtype dtype;
  size_t rank;
  /* -1 for a dim that is a run-time size (see anvil_model_dim_size). */
  int64_t dims[ANVIL_MAX_RANK];
} anvil_tensor_info;

size_t anvil_model_entry_point_count(const anvil_model *model);
/* Name of entry point `index`, or NULL if out of range. */
const char *anvil_model_entry_point_name(const anvil_model *model,
                                         size_t index);
/* Number of inputs / outputs of an entry point. */
anvil_status anvil_model_signature(const anvil_model *model,
                                   const char *entry_point,
                                   size_t *out_input_count,
                                   size_t *out_output_count);
/* Input (is_output = 0) or output (is_output != 0) number `index`. */
anvil_status anvil_model_tensor_info(const anvil_model *model,
                                     const char *entry_point, int is_output,
                                     size_t index, anvil_tensor_info *out_info);

/* Run-time sizes. An entry point compiled with bounded dims (anvilc
 * --dim=S=1..512) has a table of sizes, each a name and inclusive bounds.
 * A tensor dim that is a size has dims[i] = -1 in anvil_tensor_info; its
 * value comes from the inputs at each run (the same size must have the
 * same value in every input, within its bounds), and outputs must be
 * created with the values the inputs gave. */
typedef struct anvil_size_info {
  const char *name; /* valid while the model is */
  int64_t min;      /* inclusive bounds */
  int64_t max;
} anvil_size_info;

/* The number of sizes of an entry point (0 when every dim is static).
 * ANVIL_NOT_FOUND for an unknown entry point. Thread-safe. */
anvil_status anvil_model_size_count(const anvil_model *model,
                                    const char *entry_point, size_t *out_count);
/* Size number `index` of an entry point. ANVIL_NOT_FOUND for an unknown
 * entry point or index. Thread-safe. */
anvil_status anvil_model_size_info(const anvil_model *model,
                                   const char *entry_point, size_t index,
                                   anvil_size_info *out_info);
/* Which size dim `axis` of input (is_output = 0) or output `index` is: its
 * number in the size table, or -1 for a static dim. ANVIL_NOT_FOUND for an
 * unknown entry point, tensor or axis. Thread-safe. */
anvil_status anvil_model_dim_size(const anvil_model *model,
                                  const char *entry_point, int is_output,
                                  size_t index, size_t axis,
                                  int64_t *out_size_index);

/* Runs `entry_point` on `inputs` (in signature order), writing into
 * `outputs` (created by the caller with the signature's dtypes and shapes,
 * run-time sizes replaced by the values the inputs give them).
 * Thread-safe: concurrent runs on one model each get their own scratch
 * arena; they may share input tensors (read only) but each needs its own
 * output tensors. Errors: ANVIL_NOT_FOUND for an unknown entry point;
 * ANVIL_INVALID_ARGUMENT for a wrong count, dtype or shape, a size outside
 * its bounds or one size with two values (the message names the tensor,
 * the dim, the size and its bounds); a failure the model detects while
 * running (an index out of range) is ANVIL_EXECUTION_FAILED with the
 * reason. */
anvil_status anvil_model_run(anvil_model *model, const char *entry_point,
                             anvil_tensor *const *inputs, size_t input_count,
                             anvil_tensor *const *outputs, size_t output_count);

/*===--- the LLM engine ---------------------------------------------------===*/

/* Serves many generation requests on one decoder artifact with a paged KV
 * cache, continuous batching, chunked prefill and automatic prefix caching
 * (docs/engine.md). Requests go in as token ids (or text, with a
 * tokenizer); generated tokens come out as events, through a per-request
 * callback or by polling. The engine runs a step when the caller calls
 * anvil_engine_step, or on its own background thread after
 * anvil_engine_start.
 *
 * Thread safety: submit, cancel, poll and get_stats may be called from any
 * thread at any time, also while the background thread steps. Steps are
 * serialized (a step from the caller while the background thread runs
 * waits for the current one). Callbacks run on the thread that steps; a
 * callback may submit and cancel, and must not step, start, stop or
 * release the engine. */
typedef struct anvil_engine_s anvil_engine;

typedef struct anvil_engine_config {
  size_t struct_size; /* sizeof(anvil_engine_config) */
  /* The KV pool's size, in blocks or in bytes (rounded down to whole
   * blocks of the model's block size); at most one nonzero. Both 0: 1 GiB,
   * but at least one full context (max_context of the artifact) and at
   * most the largest pool it was compiled for (anvilc --max-kv-blocks). */
  int64_t kv_budget_blocks;
  int64_t kv_budget_bytes;
  /* Tokens (prefill chunks and decode tokens together) and sequences per
   * step; 0: the artifact's compiled maxima, which they may not exceed. */
  int64_t max_tokens_per_step;
  int64_t max_seqs_per_step;
  /* Must be 0: the model's instance's threads run each step (see
   * anvil_model_options). */
  int num_threads;
  /* Nonzero turns automatic prefix caching off. */
  int disable_prefix_caching;
  /* Token ids that end a request (unless its params ignore EOS), copied
   * at create; the caller keeps them alive during the call only. With a
   * count of 0 the engine uses the EOS ids the artifact records, if any. */
  const int64_t *eos_token_ids;
  size_t eos_token_id_count;
} anvil_engine_config;

/* Why a request ended; ANVIL_FINISH_NONE while it runs. */
typedef enum anvil_finish_reason {
  ANVIL_FINISH_NONE = 0,
  ANVIL_FINISH_STOP = 1,      /* EOS, a stop token id or a stop string */
  ANVIL_FINISH_LENGTH = 2,    /* max_new_tokens, or the context is full */
  ANVIL_FINISH_CANCELLED = 3, /* anvil_engine_cancel */
  ANVIL_FINISH_ERROR = 4,     /* the model's step failed (see event.error) */
} anvil_finish_reason;

/* "none", "stop", "length", "cancelled" or "error" (the names `anvil-run
 * generate --json` prints); "unknown" for another value. Thread-safe; the
 * string is static. */
const char *anvil_finish_reason_name(anvil_finish_reason reason);

/* How a request picks tokens and when it stops; vLLM's / OpenAI's
 * meanings. Fill it with anvil_sampling_params_init, then change fields.
 * Invalid values are ANVIL_INVALID_ARGUMENT at submit, naming the field. */
typedef struct anvil_sampling_params {
  size_t struct_size; /* sizeof(anvil_sampling_params) */
  /* 0 is greedy (argmax); > 0 divides the logits. Default 1. */
  float temperature;
  /* Keep the k most likely tokens; 0 (default) keeps all; >= 0. */
  int32_t top_k;
  /* Keep the most likely tokens whose mass reaches top_p; (0, 1],
   * default 1. */
  float top_p;
  /* Drop tokens less likely than min_p times the most likely; [0, 1],
   * default 0. */
  float min_p;
  /* CTRL's: over prompt and generated tokens, a positive logit is divided
   * by it and a negative one multiplied; > 0, default 1 (off). */
  float repetition_penalty;
  /* OpenAI's: logit -= frequency_penalty * count + presence_penalty *
   * (count > 0), count over generated tokens; each in [-2, 2], default 0. */
  float frequency_penalty;
  float presence_penalty;
  /* Generated tokens at most; 0 (default): until the context or the KV
   * pool is full. prompt + max_new_tokens must fit in the context. */
  int64_t max_new_tokens;
  /* Token ids that end the request besides EOS (delivered, with no text).
   * Copied at submit. */
  const int64_t *stop_token_ids;
  size_t stop_token_id_count;
  /* Texts that end the request (need a tokenizer); neither the stop string
   * nor anything after it is delivered. Copied at submit. */
  const char *const *stop_strings;
  size_t stop_string_count;
  /* Nonzero: keep generating past EOS. */
  int ignore_eos;
  /* Nonzero: draw with `seed`, giving the same tokens whatever else is in
   * the batch; otherwise the engine picks a random seed. */
  int has_seed;
  uint64_t seed;
  /* -1 (default): no logprobs; 0: the sampled token's; n in [1, 20]: also
   * the n most likely. Logprobs are the log-softmax of the raw logits
   * (before penalties and temperature). */
  int32_t logprobs;
} anvil_sampling_params;

/* Sets struct_size and every field to its default. Thread-safe. */
void anvil_sampling_params_init(anvil_sampling_params *params);

typedef struct anvil_token_logprob {
  int64_t token_id;
  float logprob;
} anvil_token_logprob;

/* One event of a request: a generated token, or how the request ended, or
 * both. Every request gets exactly one event with finish_reason !=
 * ANVIL_FINISH_NONE, its last. The pointers are valid during the callback,
 * or (polling) until the next anvil_engine_poll on the engine or its
 * release. */
typedef struct anvil_engine_event {
  uint64_t request_id;
  /* The new token, or -1 when the event only ends the request (cancel, a
   * failed step). A stopping token (EOS, a stop token id) is delivered,
   * with no text. */
  int64_t token_id;
  /* UTF-8 text that became final with this token (NUL-terminated;
   * text_size bytes without the NUL); "" without a tokenizer, and while
   * text that may begin a stop string is held back. */
  const char *text;
  size_t text_size;
  anvil_finish_reason finish_reason;
  /* With logprobs >= 0: token_id's logprob and the top ones, most likely
   * first (top_logprob_count = the request's logprobs). */
  float logprob;
  const anvil_token_logprob *top_logprobs;
  size_t top_logprob_count;
  /* Why the request failed ("" unless finish_reason is ANVIL_FINISH_ERROR). */
  const char *error;
} anvil_engine_event;

/* Receives a request's events, on the thread that steps the engine. */
typedef void (*anvil_engine_callback)(const anvil_engine_event *event,
                                      void *user_data);

/* Creates an engine that runs `model`'s paged-KV step function; the engine
 * keeps the model alive (it may be released first). `config` may be NULL
 * for defaults. Allocates the KV pool. Errors: ANVIL_INCOMPATIBLE for an
 * artifact without a paged-KV step function (a decoder compiled with
 * --kv-cache=graph, or not a decoder); ANVIL_INVALID_ARGUMENT naming a bad
 * config field (both budgets set, a budget below one block or above the
 * artifact's maximum, per-step limits above the compiled ones, nonzero
 * num_threads, a struct_size below the first version); the model's status
 * when the pool cannot be allocated. Thread-safe. */
anvil_status anvil_engine_create(anvil_model *model,
                                 const anvil_engine_config *config,
                                 anvil_engine **out_engine);
/* Stops the background thread (after its current step) and frees the
 * engine; requests still live get no further events. Not concurrently
 * with any other call on the engine, nor from a callback. NULL is a
 * no-op. */
void anvil_engine_release(anvil_engine *engine);

/* Queues a request for `token_ids[0, count)` (int64 ids in [0, vocab),
 * copied). `params` may be NULL for the defaults. With a NULL `callback`
 * its events are queued for anvil_engine_poll; otherwise
 * callback(event, user_data) gets them. Writes the request's id (> 0) to
 * out_request_id. Errors, which leave every other request untouched:
 * ANVIL_INVALID_ARGUMENT for an empty prompt, an id outside the
 * vocabulary, a prompt or prompt + max_new_tokens beyond the model's
 * context, invalid params, stop strings without a tokenizer;
 * ANVIL_RESOURCE_EXHAUSTED for a request that could never fit in the KV
 * pool. Thread-safe. */
anvil_status anvil_engine_submit_tokens(anvil_engine *engine,
                                        const int64_t *token_ids, size_t count,
                                        const anvil_sampling_params *params,
                                        anvil_engine_callback callback,
                                        void *user_data,
                                        uint64_t *out_request_id);
/* As anvil_engine_submit_tokens, the prompt being `text_size` bytes of
 * UTF-8 `text` that the artifact's tokenizer encodes (adding its BOS when
 * it has one). ANVIL_NOT_FOUND when the engine has no tokenizer. */
anvil_status anvil_engine_submit_text(anvil_engine *engine, const char *text,
                                      size_t text_size,
                                      const anvil_sampling_params *params,
                                      anvil_engine_callback callback,
                                      void *user_data,
                                      uint64_t *out_request_id);
/* Cancels a request: it ends at the next step with an
 * ANVIL_FINISH_CANCELLED event. ANVIL_NOT_FOUND for an id that is not live
 * (unknown, or its last event is already out). Thread-safe. */
anvil_status anvil_engine_cancel(anvil_engine *engine, uint64_t request_id);

/* Runs one step on the calling thread: takes new requests and cancels,
 * schedules a batch, runs the model, samples and delivers events.
 * `out_worked` (may be NULL) is set to 1 when anything ran or was
 * delivered, else 0 (nothing to do). A failed model step ends the
 * requests of that batch with ANVIL_FINISH_ERROR events and returns the
 * model's status; the engine keeps serving the others. Thread-safe, not
 * from a callback. */
anvil_status anvil_engine_step(anvil_engine *engine, int *out_worked);

/* Moves up to `capacity` queued events of callback-less requests into
 * `events`, oldest first, and writes how many to out_count. Their pointers
 * stay valid until the next poll on this engine or its release. Not
 * concurrently with another poll on the same engine; thread-safe
 * otherwise. */
anvil_status anvil_engine_poll(anvil_engine *engine, anvil_engine_event *events,
                               size_t capacity, size_t *out_count);

/* Starts stepping on a background thread, which sleeps (no busy wait)
 * while no request is live. ANVIL_INVALID_ARGUMENT if it already runs;
 * ANVIL_RESOURCE_EXHAUSTED if the system refuses a thread. Not
 * concurrently with stop or release. */
anvil_status anvil_engine_start(anvil_engine *engine);
/* Stops and joins the background thread after its current step; requests
 * stay queued (step them, or start again). No-op if not running. Not
 * concurrently with start or release, nor from a callback. */
anvil_status anvil_engine_stop(anvil_engine *engine);

/* Counters since create; rates over the time spent in steps. */
typedef struct anvil_engine_stats {
  size_t struct_size; /* set by the caller: sizeof(anvil_engine_stats) */
  int64_t requests_submitted, requests_rejected;
  int64_t requests_finished, requests_cancelled, requests_failed;
  int64_t waiting, running; /* queue depth now */
  int64_t steps, preemptions;
  /* Tokens run through the model, those in prompts (recomputation after a
   * preemption included), and tokens generated. */
  int64_t computed_tokens, computed_prompt_tokens, generated_tokens;
  /* Prefix cache: tokens looked up when requests started, tokens found;
   * hit rate = found / looked up. */
  int64_t prefix_queried_tokens, prefix_hit_tokens;
  double prefix_cache_hit_rate;
  int64_t kv_blocks_total, kv_blocks_used, kv_blocks_free, kv_blocks_cached;
  double busy_seconds; /* in steps */
  double prompt_tokens_per_second, generated_tokens_per_second;
  /* Time to first token, submit to first generated token, milliseconds. */
  int64_t ttft_count;
  double ttft_ms_mean, ttft_ms_last, ttft_ms_max;
} anvil_engine_stats;

/* Fills `out_stats` (its struct_size set by the caller; fields past it are
 * not written). ANVIL_INVALID_ARGUMENT for a struct_size below the first
 * version. Thread-safe. */
anvil_status anvil_engine_get_stats(const anvil_engine *engine,
                                    anvil_engine_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* ANVIL_ANVIL_H */
