/* An application serving many generation requests at once through the
 * engine's C API (docs/engine.md).
 *
 *   generate_many MODEL.anvil [options] [PROMPT...]
 *
 * Opens a decoder artifact, creates an engine, submits N requests, runs the
 * engine on its background thread and prints each request's text as it
 * streams (every line prefixed with the request's number), then the
 * engine's statistics. With --json it prints one JSON object per request
 * as it finishes and one with the statistics instead.
 * Built and run by the test suite (test/Tools/example-generate-many.test);
 * bench/engine_throughput.py times it. */
#include "anvil/anvil.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

static const char *const kUsage =
    "usage: generate_many MODEL.anvil [options] [PROMPT...]\n"
    "\n"
    "Runs N concurrent requests on the engine's background thread and\n"
    "prints their text as it streams, each line prefixed with [request],\n"
    "then the engine's statistics. Without prompts it uses a built-in list\n"
    "of Python-code prompts; prompts are reused in turn when N is larger.\n"
    "\n"
    "  -n N                    requests (default: the number of prompts)\n"
    "  --prompt-ids 1,2,3      a prompt as token ids (repeatable)\n"
    "  --prompt-ids-file F     prompts as token ids, one per line\n"
    "  --prefix TEXT           text put before every text prompt (a shared\n"
    "                          prefix, for the prefix cache)\n"
    "  --max-new-tokens N      generated tokens at most (default 64)\n"
    "  --temperature T         0 (default) is greedy\n"
    "  --seed S                request i samples with seed S + i\n"
    "  --ignore-eos            keep generating past EOS\n"
    "  --kv-blocks N           KV pool size in blocks (default: the "
    "engine's)\n"
    "  --max-tokens-per-step N tokens per step (default: the artifact's)\n"
    "  --max-seqs-per-step N   sequences per step (default: the artifact's)\n"
    "  --no-prefix-caching     turn automatic prefix caching off\n"
    "  --threads N             model threads (default 0: one per hardware\n"
    "                          thread)\n"
    "  --json                  one JSON object per request as it finishes\n"
    "                          (prompt, token_ids, text, finish_reason,\n"
    "                          ttft_ms, ...) and one with the statistics\n";

static const char *const kBuiltinPrompts[] = {
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "class Stack:\n    def __init__(self):\n",
    "import os\n\ndef list_files(path):\n",
    "def read_config(filename):\n    with open(filename) as f:\n",
    "def is_prime(n):\n",
    "class Point:\n    def __init__(self, x, y):\n",
    "def parse_args(argv):\n    parser = argparse.ArgumentParser(\n",
    "for i in range(10):\n",
};
enum { kBuiltinCount = sizeof kBuiltinPrompts / sizeof kBuiltinPrompts[0] };

/* One prompt: text, or token ids. */
typedef struct prompt {
  char *text; /* NULL for token ids */
  int owns_text;
  int64_t *ids;
  size_t id_count;
} prompt;

/* What the callback keeps of one request. Only the engine's thread writes
 * it until the request's last event; main reads it after that. */
typedef struct request {
  int index;
  uint64_t id;
  const prompt *prompt;
  double submitted, first_token; /* seconds */
  int64_t *tokens;
  size_t token_count, token_capacity;
  char *line; /* streamed text not yet printed (text mode) */
  size_t line_size, line_capacity;
  anvil_finish_reason finish;
  char *error;
  int out_of_memory;
} request;

/* Shared by the callbacks and main: how many requests have ended. */
static struct {
  mtx_t mutex;
  cnd_t ended;
  int finished;
  int json;
} g_run;

static double now_seconds(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int report(const char *what, anvil_status status) {
  fprintf(stderr, "generate_many: %s: %s\n", what,
          anvil_status_get_message(status));
  anvil_status_free(status);
  return 1;
}

/* Grows *data to hold `need` elements of `size` bytes; 0 on failure. */
static int reserve(void **data, size_t *capacity, size_t need, size_t size) {
  if (need <= *capacity)
    return 1;
  size_t grown = *capacity ? 2 * *capacity : 64;
  while (grown < need)
    grown *= 2;
  void *p = realloc(*data, grown * size);
  if (!p)
    return 0;
  *data = p;
  *capacity = grown;
  return 1;
}

/* Writes s[0, size) as a JSON string (the engine hands out whole UTF-8
 * characters, which JSON takes as they are). */
static void print_json_string(const char *s, size_t size) {
  putchar('"');
  for (size_t i = 0; i < size; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c == '\n')
      fputs("\\n", stdout);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

/* Prints the complete lines of r's streamed text, or all of it at the end;
 * text mode only. */
static void print_lines(request *r, int all) {
  size_t start = 0;
  for (size_t i = 0; i < r->line_size; ++i) {
    if (r->line[i] != '\n')
      continue;
    printf("[%d] %.*s\n", r->index, (int)(i - start), r->line + start);
    start = i + 1;
  }
  if (all && start < r->line_size) {
    printf("[%d] %.*s\n", r->index, (int)(r->line_size - start),
           r->line + start);
    start = r->line_size;
  }
  memmove(r->line, r->line + start, r->line_size - start);
  r->line_size -= start;
  fflush(stdout);
}

static void print_finished(const request *r) {
  double ttft_ms = r->token_count ? (r->first_token - r->submitted) * 1e3 : 0.0;
  if (!g_run.json) {
    printf("[%d] -- %s after %zu tokens, first token after %.1f ms%s%s\n",
           r->index, anvil_finish_reason_name(r->finish), r->token_count,
           ttft_ms, r->error ? ": " : "", r->error ? r->error : "");
    fflush(stdout);
    return;
  }
  printf("{\"request\": %d, \"id\": %llu, \"prompt\": ", r->index,
         (unsigned long long)r->id);
  if (r->prompt->text) {
    print_json_string(r->prompt->text, strlen(r->prompt->text));
  } else {
    putchar('[');
    for (size_t i = 0; i < r->prompt->id_count; ++i)
      printf("%s%lld", i ? ", " : "", (long long)r->prompt->ids[i]);
    putchar(']');
  }
  printf(", \"token_ids\": [");
  for (size_t i = 0; i < r->token_count; ++i)
    printf("%s%lld", i ? ", " : "", (long long)r->tokens[i]);
  printf("], \"text\": ");
  print_json_string(r->line ? r->line : "", r->line_size);
  printf(", \"finish_reason\": \"%s\", \"ttft_ms\": %.3f",
         anvil_finish_reason_name(r->finish), ttft_ms);
  if (r->error) {
    printf(", \"error\": ");
    print_json_string(r->error, strlen(r->error));
  }
  printf("}\n");
  fflush(stdout);
}

/* Prints r's prompt, each line prefixed with "[index] > " (text mode). */
static void print_prompt(const request *r) {
  const char *text = r->prompt->text;
  if (!text) {
    printf("[%d] > %zu prompt token ids\n", r->index, r->prompt->id_count);
    return;
  }
  while (*text) {
    const char *end = strchr(text, '\n');
    int size = end ? (int)(end - text) : (int)strlen(text);
    printf("[%d] > %.*s\n", r->index, size, text);
    text += size + (end ? 1 : 0);
  }
}

/* Runs on the engine's thread, one event at a time. */
static void on_event(const anvil_engine_event *event, void *user_data) {
  request *r = (request *)user_data;
  if (event->token_id >= 0) {
    if (r->token_count == 0)
      r->first_token = now_seconds();
    if (reserve((void **)&r->tokens, &r->token_capacity, r->token_count + 1,
                sizeof *r->tokens))
      r->tokens[r->token_count++] = event->token_id;
    else
      r->out_of_memory = 1;
  }
  if (event->text_size) {
    if (reserve((void **)&r->line, &r->line_capacity,
                r->line_size + event->text_size, 1)) {
      memcpy(r->line + r->line_size, event->text, event->text_size);
      r->line_size += event->text_size;
    } else {
      r->out_of_memory = 1;
    }
    if (!g_run.json)
      print_lines(r, 0);
  }
  if (event->finish_reason == ANVIL_FINISH_NONE)
    return;
  r->finish = event->finish_reason;
  if (event->error && event->error[0]) {
    size_t n = strlen(event->error) + 1;
    r->error = (char *)malloc(n);
    if (r->error)
      memcpy(r->error, event->error, n);
  }
  if (!g_run.json && r->line_size)
    print_lines(r, 1);
  print_finished(r);
  mtx_lock(&g_run.mutex);
  ++g_run.finished;
  cnd_signal(&g_run.ended);
  mtx_unlock(&g_run.mutex);
}

static int parse_int(const char *text, int64_t min, int64_t *out) {
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (!*text || *end || errno || v < min)
    return 0;
  *out = v;
  return 1;
}

/* Parses ids separated by commas or blanks into p; 0 when malformed or
 * empty. */
static int parse_ids(const char *text, prompt *p) {
  size_t capacity = 0;
  const char *s = text;
  for (;;) {
    while (*s == ',' || *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
      ++s;
    if (!*s)
      break;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
      return 0;
    if (!reserve((void **)&p->ids, &capacity, p->id_count + 1, sizeof *p->ids))
      return 0;
    p->ids[p->id_count++] = v;
    s = end;
  }
  return p->id_count > 0;
}

/* Appends a prompt to *prompts; NULL when out of memory. */
static prompt *add_prompt(prompt **prompts, size_t *count, size_t *capacity) {
  if (!reserve((void **)prompts, capacity, *count + 1, sizeof **prompts))
    return NULL;
  prompt *p = &(*prompts)[(*count)++];
  memset(p, 0, sizeof *p);
  return p;
}

static int read_ids_file(const char *path, prompt **prompts, size_t *count,
                         size_t *capacity) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "generate_many: %s: %s\n", path, strerror(errno));
    return 0;
  }
  char *line = NULL;
  size_t line_capacity = 0, line_size = 0;
  int ok = 1, c = 0, line_number = 1;
  while (ok && c != EOF) {
    c = fgetc(f);
    if (c != '\n' && c != EOF) {
      if (!reserve((void **)&line, &line_capacity, line_size + 2, 1))
        ok = 0;
      else
        line[line_size++] = (char)c;
      continue;
    }
    if (line_size == 0) {
      ++line_number;
      continue;
    }
    line[line_size] = '\0';
    prompt *p = add_prompt(prompts, count, capacity);
    if (!p || !parse_ids(line, p)) {
      fprintf(stderr, "generate_many: %s:%d: expected token ids\n", path,
              line_number);
      ok = 0;
    }
    line_size = 0;
    ++line_number;
  }
  free(line);
  fclose(f);
  return ok;
}

/* The statistics' fields by name, for --json. */
#define INT_FIELD(name)                                                        \
  { #name, offsetof(anvil_engine_stats, name), 0 }
#define REAL_FIELD(name)                                                       \
  { #name, offsetof(anvil_engine_stats, name), 1 }
static const struct stats_field {
  const char *name;
  size_t offset;
  int real; /* double, else int64_t */
} kStatsFields[] = {
    INT_FIELD(requests_submitted),
    INT_FIELD(requests_rejected),
    INT_FIELD(requests_finished),
    INT_FIELD(requests_cancelled),
    INT_FIELD(requests_failed),
    INT_FIELD(waiting),
    INT_FIELD(running),
    INT_FIELD(steps),
    INT_FIELD(preemptions),
    INT_FIELD(computed_tokens),
    INT_FIELD(computed_prompt_tokens),
    INT_FIELD(generated_tokens),
    INT_FIELD(prefix_queried_tokens),
    INT_FIELD(prefix_hit_tokens),
    REAL_FIELD(prefix_cache_hit_rate),
    INT_FIELD(kv_blocks_total),
    INT_FIELD(kv_blocks_used),
    INT_FIELD(kv_blocks_free),
    INT_FIELD(kv_blocks_cached),
    REAL_FIELD(busy_seconds),
    REAL_FIELD(prompt_tokens_per_second),
    REAL_FIELD(generated_tokens_per_second),
    INT_FIELD(ttft_count),
    REAL_FIELD(ttft_ms_mean),
    REAL_FIELD(ttft_ms_last),
    REAL_FIELD(ttft_ms_max),
};
#undef INT_FIELD
#undef REAL_FIELD

static void print_stats(const anvil_engine_stats *s, double wall_seconds,
                        int json) {
  double wall_rate = wall_seconds > 0 ? s->generated_tokens / wall_seconds : 0;
  if (json) {
    printf("{\"stats\": {");
    for (size_t i = 0; i < sizeof kStatsFields / sizeof kStatsFields[0]; ++i) {
      const char *field = (const char *)s + kStatsFields[i].offset;
      printf("\"%s\": ", kStatsFields[i].name);
      if (kStatsFields[i].real)
        printf("%.6f, ", *(const double *)field);
      else
        printf("%lld, ", (long long)*(const int64_t *)field);
    }
    printf("\"wall_seconds\": %.6f, "
           "\"generated_tokens_per_wall_second\": %.3f}}\n",
           wall_seconds, wall_rate);
    return;
  }
  printf("statistics:\n"
         "  requests: %lld submitted, %lld finished, %lld cancelled, "
         "%lld failed, %lld rejected\n"
         "  tokens: %lld computed (%lld of prompts), %lld generated, in %lld "
         "steps\n"
         "  throughput: prompt %.1f tok/s, generated %.1f tok/s over %.3f s "
         "in steps; generated %.1f tok/s over %.3f s wall\n"
         "  time to first token: mean %.1f ms, max %.1f ms (%lld requests)\n"
         "  KV blocks: %lld total, %lld used, %lld free, %lld cached\n"
         "  prefix cache: %lld of %lld tokens found (hit rate %.1f%%)\n"
         "  preemptions: %lld\n",
         (long long)s->requests_submitted, (long long)s->requests_finished,
         (long long)s->requests_cancelled, (long long)s->requests_failed,
         (long long)s->requests_rejected, (long long)s->computed_tokens,
         (long long)s->computed_prompt_tokens, (long long)s->generated_tokens,
         (long long)s->steps, s->prompt_tokens_per_second,
         s->generated_tokens_per_second, s->busy_seconds, wall_rate,
         wall_seconds, s->ttft_ms_mean, s->ttft_ms_max,
         (long long)s->ttft_count, (long long)s->kv_blocks_total,
         (long long)s->kv_blocks_used, (long long)s->kv_blocks_free,
         (long long)s->kv_blocks_cached, (long long)s->prefix_hit_tokens,
         (long long)s->prefix_queried_tokens, 100.0 * s->prefix_cache_hit_rate,
         (long long)s->preemptions);
}

/* Options and what main owns. */
typedef struct run {
  const char *path, *prefix;
  int64_t count, max_new_tokens, kv_blocks, max_tokens, max_seqs, threads;
  int64_t seed;
  int has_seed, ignore_eos, no_prefix_caching;
  float temperature;
  prompt *prompts;
  size_t prompt_count, prompt_capacity;
} run;

static int usage_error(const char *message, const char *arg) {
  fprintf(stderr, "generate_many: %s%s%s (generate_many --help)\n", message,
          arg ? ": " : "", arg ? arg : "");
  return 2;
}

static int takes_value(const char *option) {
  static const char *const kOptions[] = {
      "-n",        "--prompt-ids",       "--prompt-ids-file",
      "--prefix",  "--max-new-tokens",   "--temperature",
      "--seed",    "--kv-blocks",        "--max-tokens-per-step",
      "--threads", "--max-seqs-per-step"};
  for (size_t i = 0; i < sizeof kOptions / sizeof kOptions[0]; ++i)
    if (!strcmp(option, kOptions[i]))
      return 1;
  return 0;
}

/* Parses argv into *o; returns -1 to go on, else main's exit code. */
static int parse_options(int argc, char **argv, run *o) {
  int have_text = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    int64_t n = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(kUsage, stdout);
      return 0;
    }
    if (!strcmp(a, "--json")) {
      g_run.json = 1;
      continue;
    }
    if (!strcmp(a, "--ignore-eos")) {
      o->ignore_eos = 1;
      continue;
    }
    if (!strcmp(a, "--no-prefix-caching")) {
      o->no_prefix_caching = 1;
      continue;
    }
    if (a[0] != '-') {
      if (!o->path) {
        o->path = a;
        continue;
      }
      prompt *p =
          add_prompt(&o->prompts, &o->prompt_count, &o->prompt_capacity);
      if (!p)
        return usage_error("out of memory", NULL);
      p->text = (char *)a;
      have_text = 1;
      continue;
    }
    if (!takes_value(a))
      return usage_error("unknown option", a);
    if (!value)
      return usage_error("option needs a value", a);
    ++i;
    if (!strcmp(a, "--prefix")) {
      o->prefix = value;
    } else if (!strcmp(a, "--prompt-ids")) {
      prompt *p =
          add_prompt(&o->prompts, &o->prompt_count, &o->prompt_capacity);
      if (!p || !parse_ids(value, p))
        return usage_error("--prompt-ids: expected token ids like 1,2,3",
                           value);
    } else if (!strcmp(a, "--prompt-ids-file")) {
      if (!read_ids_file(value, &o->prompts, &o->prompt_count,
                         &o->prompt_capacity))
        return 1;
    } else if (!strcmp(a, "--temperature")) {
      char *end = NULL;
      o->temperature = strtof(value, &end);
      if (!*value || *end)
        return usage_error("--temperature: expected a number", value);
    } else if (!parse_int(value, 0, &n)) {
      return usage_error("expected an integer >= 0", a);
    } else if (!strcmp(a, "-n")) {
      o->count = n;
    } else if (!strcmp(a, "--max-new-tokens")) {
      o->max_new_tokens = n;
    } else if (!strcmp(a, "--kv-blocks")) {
      o->kv_blocks = n;
    } else if (!strcmp(a, "--max-tokens-per-step")) {
      o->max_tokens = n;
    } else if (!strcmp(a, "--max-seqs-per-step")) {
      o->max_seqs = n;
    } else if (!strcmp(a, "--threads")) {
      o->threads = n;
    } else if (!strcmp(a, "--seed")) {
      o->seed = n;
      o->has_seed = 1;
    }
  }
  if (!o->path)
    return usage_error("no artifact given", NULL);
  if (o->prefix && o->prompt_count > 0 && !have_text)
    return usage_error("--prefix applies to text prompts", NULL);
  if (o->prompt_count == 0) {
    for (size_t i = 0; i < kBuiltinCount; ++i) {
      prompt *p =
          add_prompt(&o->prompts, &o->prompt_count, &o->prompt_capacity);
      if (!p)
        return usage_error("out of memory", NULL);
      p->text = (char *)kBuiltinPrompts[i];
    }
  }
  if (o->count == 0)
    o->count = (int64_t)o->prompt_count;
  if (o->prefix) {
    size_t prefix_size = strlen(o->prefix);
    for (size_t i = 0; i < o->prompt_count; ++i) {
      prompt *p = &o->prompts[i];
      if (!p->text)
        continue;
      size_t size = strlen(p->text);
      char *joined = (char *)malloc(prefix_size + size + 1);
      if (!joined)
        return usage_error("out of memory", NULL);
      memcpy(joined, o->prefix, prefix_size);
      memcpy(joined + prefix_size, p->text, size + 1);
      p->text = joined;
      p->owns_text = 1;
    }
  }
  return -1;
}

static void free_prompts(run *o) {
  for (size_t i = 0; i < o->prompt_count; ++i) {
    free(o->prompts[i].ids);
    if (o->prompts[i].owns_text)
      free(o->prompts[i].text);
  }
  free(o->prompts);
}

/* Runs o's requests on an engine; main's exit code. */
static int serve(run *o) {
  anvil_model_options model_options;
  memset(&model_options, 0, sizeof model_options);
  model_options.num_threads = (int)o->threads;
  anvil_model *model = NULL;
  anvil_status status = anvil_model_open_file(o->path, &model_options, &model);
  if (status)
    return report(o->path, status);

  anvil_engine_config config;
  memset(&config, 0, sizeof config);
  config.struct_size = sizeof config;
  config.kv_budget_blocks = o->kv_blocks;
  config.max_tokens_per_step = o->max_tokens;
  config.max_seqs_per_step = o->max_seqs;
  config.disable_prefix_caching = o->no_prefix_caching;
  anvil_engine *engine = NULL;
  status = anvil_engine_create(model, &config, &engine);
  /* The engine keeps the model alive. */
  anvil_model_release(model);
  if (status)
    return report("creating the engine", status);

  request *requests = (request *)calloc((size_t)o->count + 1, sizeof *requests);
  if (!requests) {
    fprintf(stderr, "generate_many: out of memory\n");
    anvil_engine_release(engine);
    return 1;
  }
  /* Everything is queued before the engine starts, so that the first step
   * already sees the whole batch (submitting to a running engine works the
   * same: a request joins the next step). */
  int rc = 0, submitted = 0;
  double started = now_seconds();
  for (int64_t i = 0; i < o->count; ++i) {
    request *r = &requests[i];
    r->index = (int)i;
    r->prompt = &o->prompts[(size_t)i % o->prompt_count];
    anvil_sampling_params params;
    anvil_sampling_params_init(&params);
    params.temperature = o->temperature;
    params.max_new_tokens = o->max_new_tokens;
    params.ignore_eos = o->ignore_eos;
    params.has_seed = o->has_seed;
    params.seed = (uint64_t)(o->seed + i);
    r->submitted = now_seconds();
    status = r->prompt->text
                 ? anvil_engine_submit_text(engine, r->prompt->text,
                                            strlen(r->prompt->text), &params,
                                            on_event, r, &r->id)
                 : anvil_engine_submit_tokens(engine, r->prompt->ids,
                                              r->prompt->id_count, &params,
                                              on_event, r, &r->id);
    if (status) {
      char what[64];
      snprintf(what, sizeof what, "request %d", r->index);
      rc = report(what, status);
      break;
    }
    ++submitted;
    if (!g_run.json)
      print_prompt(r);
  }
  if (submitted > 0 && (status = anvil_engine_start(engine))) {
    rc = report("starting the engine", status);
    submitted = 0; /* nothing will end them: do not wait */
  }
  mtx_lock(&g_run.mutex);
  while (g_run.finished < submitted)
    cnd_wait(&g_run.ended, &g_run.mutex);
  mtx_unlock(&g_run.mutex);
  double wall = now_seconds() - started;
  if ((status = anvil_engine_stop(engine)))
    rc = report("stopping the engine", status);

  for (int i = 0; i < submitted; ++i) {
    if (requests[i].finish == ANVIL_FINISH_ERROR) {
      fprintf(stderr, "generate_many: request %d failed: %s\n", i,
              requests[i].error ? requests[i].error : "(no message)");
      rc = 1;
    }
    if (requests[i].out_of_memory) {
      fprintf(stderr, "generate_many: request %d: out of memory\n", i);
      rc = 1;
    }
  }
  anvil_engine_stats stats;
  memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  if ((status = anvil_engine_get_stats(engine, &stats)))
    rc = report("reading the statistics", status);
  else
    print_stats(&stats, wall, g_run.json);

  /* After release no callback can touch the requests any more. */
  anvil_engine_release(engine);
  for (int64_t i = 0; i < o->count; ++i) {
    free(requests[i].tokens);
    free(requests[i].line);
    free(requests[i].error);
  }
  free(requests);
  return rc;
}

int main(int argc, char **argv) {
  run o;
  memset(&o, 0, sizeof o);
  o.max_new_tokens = 64;
  int rc = parse_options(argc, argv, &o);
  if (rc < 0) {
    if (mtx_init(&g_run.mutex, mtx_plain) != thrd_success ||
        cnd_init(&g_run.ended) != thrd_success) {
      fprintf(stderr, "generate_many: cannot create a mutex\n");
      rc = 1;
    } else {
      rc = serve(&o);
      cnd_destroy(&g_run.ended);
      mtx_destroy(&g_run.mutex);
    }
  }
  free_prompts(&o);
  return rc;
}
